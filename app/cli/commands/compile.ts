// `kiln compile`: the bundled compiler (kernel/compiler) on its own — Wasm to a bootable image.
import { runCompileCommand } from '../../../kernel/compiler/cli.ts';
import { bool, str } from '../args.ts';
import type { Command } from '../command.ts';

export const compileCommand: Command = {
  name: 'compile',
  args: '<app.wasm> -o <image.elf> [--base <kernel-base.elf>] [--config <file.json>]',
  summary: 'compile a Wasm appliance to x86-64 and link it with the kernel base',
  flags: {
    output: { type: 'string', short: 'o', value: 'FILE', help: 'the image to write' },
    base: { type: 'string', value: 'FILE', help: 'kernel base ELF (default: kernel/build/kiln-base.elf)' },
    config: { type: 'string', value: 'FILE', help: "JSON handed to the appliance's config_get" },
    'blob-only': { type: 'boolean', help: 'write the compiled blob, not a linked image' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  positionals: [1, 1],
  async run(p, ctx) {
    const argv = [p.positionals[0]!];
    const output = str(p, 'output');
    if (output !== undefined) argv.push('-o', output);
    for (const name of ['base', 'config'] as const) {
      const v = str(p, name);
      if (v !== undefined) argv.push(`--${name}`, v);
    }
    if (bool(p, 'blob-only')) argv.push('--blob-only');
    if (ctx.json) argv.push('--json');
    return runCompileCommand(argv, { log: ctx.out, error: ctx.err });
  },
};
