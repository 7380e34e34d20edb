// Builds the dns, http-static and kv templates the way the BUILD does (generated
// `kiln-assets` modules and compiled assets in the configuration, see app/build/generate.ts),
// for the appliance tests and the benchmark.
// The Wasm is cached by a hash of the sources it is compiled from and the generated sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LIB } from './loopback.ts';
import { embedSite } from '../http/embed-site.ts';
import { templateAscOptions } from '../build/asc-options.ts';
import { compileZone, ZONE_COMPILER_ENTRY } from '../dns/zone-compiler-host.ts';

export const TEMPLATES = join(LIB, '..', '..', 'resources', 'templates');

/**
 * Hashes the sources an appliance is compiled from: the entry and everything it imports
 * ("kiln/x" is kernel/lib/x.ts, relative paths beside the importer), followed transitively.
 * Generated sources (extraSources) are hashed by the caller.
 */
function addClosure(h: ReturnType<typeof createHash>, entry: string, extra: Record<string, string>): void {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    h.update(file).update(text);
    for (const m of text.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('kiln/')) visit(join(LIB, `${spec.slice(5)}.ts`));
      else if (spec.startsWith('.')) visit(join(dirname(file), `${spec}.ts`));
    }
  };
  visit(entry);
  for (const k of Object.keys(extra).sort()) h.update(k).update(extra[k] ?? '');
}

/** Generated sources for a template: the site folder for http-static (dns: see dnsZoneConfig). */
export function templateAssets(
  name: 'dns' | 'http-static' | 'kv',
  opts: { siteDir?: string } = {},
): Record<string, string> {
  if (name === 'http-static')
    return embedSite(opts.siteDir ?? join(TEMPLATES, 'http-static', 'site')).sources;
  return {};
}

/**
 * The configuration entry the build makes for a dns zone (the compiled zone, base64, under
 * "zone_file"); the example zone when no text is given. A bad zone throws the parser's message.
 */
export async function dnsZoneConfig(zoneText?: string): Promise<{ zone_file: string }> {
  const wasm = await compileCached('zone-compiler', join(LIB, ZONE_COMPILER_ENTRY), {});
  const text = zoneText ?? readFileSync(join(TEMPLATES, 'dns', 'example.zone'), 'utf8');
  return { zone_file: Buffer.from(compileZone(wasm, text, {})).toString('base64') };
}

export function compileTemplate(
  name: 'dns' | 'http-static' | 'kv',
  extraSources: Record<string, string>,
  optimize = true,
): Promise<Uint8Array> {
  return compileCached(name, join(TEMPLATES, name, 'main.ts'), extraSources, optimize);
}

async function compileCached(
  name: string,
  entry: string,
  extraSources: Record<string, string>,
  optimize = true,
): Promise<Uint8Array> {
  const h = createHash('sha256');
  h.update(String(optimize)).update(JSON.stringify(templateAscOptions(entry)));
  h.update(readFileSync(join(LIB, '..', '..', 'node_modules', 'assemblyscript', 'package.json')));
  addClosure(h, entry, extraSources);
  const dir = join(tmpdir(), 'kiln-template-cache');
  const file = join(dir, `${name}-${h.digest('hex').slice(0, 24)}.wasm`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const { compileAppliance } = await import('../build/compile-as.ts');
  const r = await compileAppliance({ entry, optimize, extraSources });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0)
    throw new Error(
      errors.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}\n${d.excerpt}`).join('\n'),
    );
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.${process.pid}`, r.wasm);
  renameSync(`${file}.${process.pid}`, file);
  return r.wasm;
}
