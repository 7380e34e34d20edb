// Compiles an appliance (AssemblyScript entry + the `kiln` library package) to Wasm with the
// assemblyscript compiler's programmatic API. Library imports: `import { x } from "kiln/net"`
// resolves to kernel/lib/net.ts (asc package resolution through a virtual package root).
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { templateAscOptions, type AscOptions } from './asc-options.ts';

export { templateAscOptions, type AscOptions } from './asc-options.ts';

export interface Diagnostic {
  severity: 'error' | 'warning' | 'info';
  code: number;
  message: string;
  /** Host path of the file (or `~lib/...` for compiler builtins); '' when unknown. */
  file: string;
  line: number;
  column: number;
  /** The source line and a caret under the column. */
  excerpt: string;
}

export interface CompileOptions {
  /** Absolute path of the appliance's entry file (exports `main(): i32`). */
  entry: string;
  optimize: boolean;
  /** Extra in-memory sources, by path relative to the entry's folder (e.g. generated assets). */
  extraSources?: Record<string, string>;
  /** The library OS sources (default: this checkout's kernel/lib; a packaged app's resources). */
  libDir?: string;
  /** Runtime and optimisation goal (default: those of the template.json beside the entry). */
  asc?: AscOptions;
}

export interface CompileResult {
  wasm: Uint8Array;
  diagnostics: Diagnostic[];
}

export const LIB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The asc package root we invent; `<root>/kiln/X.ts` maps onto `LIB_DIR/X.ts`. */
const PACKAGE_ROOT = '__kiln_packages__';

/**
 * Features: the bundled compiler accepts MVP + sign-extension + saturating float-to-int +
 * bulk memory + multi-value + mutable globals. asc enables exactly the first four and mutable
 * globals by default; SIMD, reference types, threads and GC stay off (we disable them explicitly
 * so a future asc default change cannot leak them in).
 */
function ascArgs(entryRel: string, optimize: boolean, asc: AscOptions): string[] {
  const args = [
    entryRel,
    '--outFile',
    'out.wasm',
    '--runtime',
    asc.runtime,
    '--path',
    PACKAGE_ROOT,
    '--noColors',
  ];
  if (optimize) args.push(asc.optimize === 'size' ? '-O3s' : '-O3', '--noAssert', '--converge');
  else args.push('-O1');
  return args;
}

function lineExcerpt(text: string, line: number, column: number): string {
  const src = text.split('\n')[line - 1] ?? '';
  return `${src}\n${' '.repeat(Math.max(0, column - 1))}^`;
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

export async function compileAppliance(opts: CompileOptions): Promise<CompileResult> {
  const entryAbs = resolve(opts.entry);
  const baseDir = dirname(entryAbs);
  const extra = opts.extraSources ?? {};
  const libDir = opts.libDir ?? LIB_DIR;
  const texts = new Map<string, string>(); // normalized asc path -> text, for excerpts
  const hostPaths = new Map<string, string>(); // normalized asc path -> host path

  // asc asks for files relative to baseDir; package files come as PACKAGE_ROOT/kiln/...
  const mapPath = (name: string): string | null => {
    const norm = name.split(sep).join('/');
    const prefix = `${PACKAGE_ROOT}/kiln/`;
    if (norm.startsWith(prefix)) return join(libDir, norm.slice(prefix.length));
    if (norm.includes(PACKAGE_ROOT) || norm.includes('node_modules')) return null;
    return isAbsolute(name) ? name : join(baseDir, name);
  };

  let wasm: Uint8Array | null = null;
  const diagnostics: Diagnostic[] = [];
  const stderr: string[] = [];
  const ascOptions = opts.asc ?? templateAscOptions(entryAbs);
  const result = await asc.main(ascArgs(relative(baseDir, entryAbs), opts.optimize, ascOptions), {
    readFile: async (name: string, dir: string) => {
      // asc passes paths relative to its baseDir ('.'); anchor them at the entry's folder.
      const rel = relative(baseDir, resolve(baseDir, dir, name))
        .split(sep)
        .join('/');
      if (process.env.KILN_ASC_DEBUG) console.error('asc read', name, dir, rel);
      if (Object.prototype.hasOwnProperty.call(extra, rel)) return extra[rel] ?? null;
      const host = mapPath(rel);
      if (host === null) return null;
      try {
        const text = await readFile(host, 'utf8');
        const ascPath = rel.startsWith(`${PACKAGE_ROOT}/`)
          ? `~lib/${rel.slice(PACKAGE_ROOT.length + 1)}`
          : rel;
        texts.set(ascPath.replace(/\.ts$/, ''), text);
        hostPaths.set(ascPath.replace(/\.ts$/, ''), host);
        return text;
      } catch {
        return null;
      }
    },
    writeFile: async (name: string, contents: Uint8Array | string) => {
      if (name.endsWith('out.wasm') && typeof contents !== 'string') wasm = new Uint8Array(contents);
    },
    listFiles: async () => [],
    stdout: { write: () => true } as unknown as asc.OutputStream,
    stderr: {
      write: (s: string | Uint8Array) => {
        stderr.push(typeof s === 'string' ? s : Buffer.from(s).toString());
        return true;
      },
    } as unknown as asc.OutputStream,
    reportDiagnostic: (d: asc.DiagnosticMessage) => {
      const src = d.range?.source?.normalizedPath ?? '';
      const key = src.replace(/\.ts$/, '');
      const text = texts.get(key) ?? '';
      const pos = d.range ? lineCol(text, d.range.start) : { line: 0, column: 0 };
      diagnostics.push({
        severity: d.category === 3 ? 'error' : d.category === 2 ? 'warning' : 'info',
        code: d.code,
        message: d.message,
        file: hostPaths.get(key) ?? src,
        line: pos.line,
        column: pos.column,
        excerpt: text ? lineExcerpt(text, pos.line, pos.column) : '',
      });
    },
  });
  if (result.error) {
    if (!diagnostics.some((d) => d.severity === 'error')) {
      diagnostics.push({
        severity: 'error',
        code: 0,
        message: `${result.error.message}${stderr.length ? `\n${stderr.join('')}` : ''}`,
        file: entryAbs,
        line: 0,
        column: 0,
        excerpt: '',
      });
    }
    return { wasm: new Uint8Array(0), diagnostics };
  }
  if (!wasm) throw new Error('asc produced no Wasm');
  return { wasm, diagnostics };
}
