#!/usr/bin/env node
// The `kiln` command. In a checkout it runs the TypeScript sources through tsx (never a stale
// bundle); in an installed package without sources it runs the bundle made by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../app/cli/main.ts', import.meta.url));
let runCli;
if (existsSync(source)) {
  await import('../scripts/loader/register-ts.mjs');
  ({ runCli } = await import(pathToFileURL(source).href));
} else {
  ({ runCli } = await import(new URL('../dist/app/cli.js', import.meta.url).href));
}
process.exitCode = await runCli(process.argv.slice(2));
