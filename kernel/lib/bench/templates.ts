// Builds the dns, http-static and kv templates the way the BUILD does (generated
// `kiln-assets` modules, see app/build/generate.ts), for the appliance tests and the benchmark.
// The Wasm is cached by a hash of the sources it is compiled from and the generated sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LIB } from './loopback.ts';
import { embedSite } from '../http/embed-site.ts';
import { templateAscOptions } from '../build/asc-options.ts';
import { asStringLiteral as asString } from '../../../app/build/generate.ts';

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

/** Generated sources for a template: the zone file for dns, the site folder for http-static. */
export function templateAssets(
  name: 'dns' | 'http-static' | 'kv',
  opts: { zoneText?: string; siteDir?: string } = {},
): Record<string, string> {
  if (name === 'dns') {
    const zone = opts.zoneText ?? readFileSync(join(TEMPLATES, 'dns', 'example.zone'), 'utf8');
    return { 'kiln-assets.ts': `export const zone_file: string = ${asString(zone)};\n` };
  }
  if (name === 'http-static')
    return embedSite(opts.siteDir ?? join(TEMPLATES, 'http-static', 'site')).sources;
  return {};
}

export async function compileTemplate(
  name: 'dns' | 'http-static' | 'kv',
  extraSources: Record<string, string>,
  optimize = true,
): Promise<Uint8Array> {
  const h = createHash('sha256');
  h.update(String(optimize)).update(JSON.stringify(templateAscOptions(join(TEMPLATES, name, 'main.ts'))));
  h.update(readFileSync(join(LIB, '..', '..', 'node_modules', 'assemblyscript', 'package.json')));
  addClosure(h, join(TEMPLATES, name, 'main.ts'), extraSources);
  const dir = join(tmpdir(), 'kiln-template-cache');
  const file = join(dir, `${name}-${h.digest('hex').slice(0, 24)}.wasm`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const { compileAppliance } = await import('../build/compile-as.ts');
  const r = await compileAppliance({ entry: join(TEMPLATES, name, 'main.ts'), optimize, extraSources });
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
