// `kiln compile <app.wasm> -o <image.elf> [--base <kernel-base.elf>] [--blob-only] [--json]`
// The integrator wires runCompileCommand into the `kiln` CLI.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { compileWasm, linkImage, type CompileStats } from './index.ts';
import { WasmError } from './wasm/types.ts';
import { LinkError } from './link/elf.ts';

export interface CommandOutput {
  log(s: string): void;
  error(s: string): void;
}

const DEFAULT_BASE = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'kiln-base.elf');

const USAGE =
  'usage: kiln compile <app.wasm> -o <image.elf> [--base <kernel-base.elf>] [--config <file.json>] [--blob-only] [--json]';

interface Args {
  input: string;
  output: string;
  base: string;
  config: string | null;
  blobOnly: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args | string {
  let input: string | null = null;
  let output: string | null = null;
  let base = DEFAULT_BASE;
  let config: string | null = null;
  let blobOnly = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | null => (i + 1 < argv.length ? argv[++i]! : null);
    if (a === '-o' || a === '--output') output = value();
    else if (a === '--base') base = value() ?? '';
    else if (a === '--config') config = value();
    else if (a === '--blob-only') blobOnly = true;
    else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') return USAGE;
    else if (a.startsWith('-')) return `unknown option ${a}\n${USAGE}`;
    else if (input === null) input = a;
    else return `unexpected argument ${a}\n${USAGE}`;
  }
  if (!input || !output) return USAGE;
  return { input, output, base, config, blobOnly, json };
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

/** Returns the process exit status: 0 ok, 1 compile/link error, 2 usage. */
export async function runCompileCommand(argv: string[], out: CommandOutput): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    out.error(args);
    return 2;
  }
  let wasm: Uint8Array;
  try {
    wasm = new Uint8Array(readFileSync(args.input));
  } catch (e) {
    out.error(`cannot read ${args.input}: ${(e as Error).message}`);
    return 1;
  }
  let stats: CompileStats;
  let image: Uint8Array;
  const t0 = performance.now();
  try {
    const res = compileWasm(wasm, {
      onProgress: (p) => {
        if (!args.json) out.log(`${p.stage}: ${p.message}`);
      },
    });
    stats = res.stats;
    if (args.blobOnly) image = res.blob;
    else {
      if (!existsSync(args.base)) {
        out.error(`kernel base not found: ${args.base} (build it with \`make -C kernel\` or pass --base)`);
        return 1;
      }
      const config = args.config ? new Uint8Array(readFileSync(args.config)) : undefined;
      image = linkImage({ blob: res.blob, baseElf: new Uint8Array(readFileSync(args.base)), config });
      if (!args.json) out.log(`link: image ${image.length} bytes`);
    }
    writeFileSync(args.output, image);
  } catch (e) {
    if (e instanceof WasmError || e instanceof LinkError) {
      out.error(`${args.input}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const ms = performance.now() - t0;
  if (args.json) {
    out.log(
      JSON.stringify({ output: args.output, imageBytes: image.length, totalMs: Math.round(ms), ...stats }),
    );
  } else {
    out.log(
      `${args.output}: ${kib(image.length)} (code ${kib(stats.codeBytes)}, data ${kib(stats.dataBytes)}, ` +
        `metadata ${kib(stats.metadataBytes)}, ${stats.functions} functions) in ${ms.toFixed(0)} ms`,
    );
  }
  return 0;
}

// Direct use: npx tsx kernel/compiler/cli.ts <app.wasm> -o <image.elf> ...
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runCompileCommand(process.argv.slice(2), {
    log: (s) => console.log(s),
    error: (s) => console.error(s),
  }).then((rc) => process.exit(rc));
}
