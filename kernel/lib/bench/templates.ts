// Builds the dns, http-static and kv templates the way the BUILD does (generated
// `kiln-assets` modules, see app/build/generate.ts), for the appliance tests and the benchmark.
// The Wasm is cached by a hash of the library, the template and the generated sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIB } from './loopback.ts';
import { embedSite } from '../http/embed-site.ts';

export const TEMPLATES = join(LIB, '..', '..', 'resources', 'templates');

function addTree(h: ReturnType<typeof createHash>, dir: string): void {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'build' || name === 'host' || name === 'bench' || name === 'fuzz') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) addTree(h, full);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) h.update(full).update(readFileSync(full));
  }
}

/** AS string literal (the BUILD's asStringLiteral rules: escape all but printable ASCII). */
function asString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return `${out}"`;
}

/** Generated sources for a template: the zone file for dns, the site folder for http-static. */
export function templateAssets(name: 'dns' | 'http-static' | 'kv', opts: { zoneText?: string; siteDir?: string } = {}): Record<string, string> {
  if (name === 'dns') {
    const zone = opts.zoneText ?? readFileSync(join(TEMPLATES, 'dns', 'example.zone'), 'utf8');
    return { 'kiln-assets.ts': `export const zone_file: string = ${asString(zone)};\n` };
  }
  if (name === 'http-static') return embedSite(opts.siteDir ?? join(TEMPLATES, 'http-static', 'site')).sources;
  return {};
}

export async function compileTemplate(name: 'dns' | 'http-static' | 'kv', extraSources: Record<string, string>, optimize = true): Promise<Uint8Array> {
  const h = createHash('sha256');
  h.update(String(optimize));
  addTree(h, LIB);
  addTree(h, join(TEMPLATES, name));
  for (const k of Object.keys(extraSources).sort()) h.update(k).update(extraSources[k] ?? '');
  const dir = join(tmpdir(), 'kiln-template-cache');
  const file = join(dir, `${name}-${h.digest('hex').slice(0, 24)}.wasm`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const { compileAppliance } = await import('../build/compile-as.ts');
  const r = await compileAppliance({ entry: join(TEMPLATES, name, 'main.ts'), optimize, extraSources });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}\n${d.excerpt}`).join('\n'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.${process.pid}`, r.wasm);
  renameSync(`${file}.${process.pid}`, file);
  return r.wasm;
}
