// ESLint flat config: TypeScript everywhere, Svelte in the renderer.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'kernel/build/',
      // AssemblyScript sources are type-checked by asc, not by TypeScript.
      'kernel/lib/**/*.ts',
      '!kernel/lib/host/**',
      '!kernel/lib/build/**',
      '!kernel/lib/fuzz/**',
      '!kernel/lib/bench/**',
      'resources/templates/**/*.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
);
