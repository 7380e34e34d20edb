// Which library-OS modules an appliance links: the import graph from its entry file, following
// `kiln/...` imports into kernel/lib and relative imports inside it. asc compiles exactly the
// files reachable this way, so this is the "specialisation" the appliance page shows.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']/g;

function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) if (m[1]) out.push(m[1]);
  return out;
}

function resolveFile(base: string): string | null {
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
  }
  return null;
}

/**
 * Library modules reachable from `entry`, as `kiln/<path>` names, sorted. `extraSources` are the
 * generated in-memory files (by path relative to the entry's folder), followed like real ones.
 */
export function linkedModules(
  entry: string,
  libDir: string,
  extraSources: Record<string, string> = {},
): string[] {
  const lib = resolve(libDir);
  const entryDir = dirname(resolve(entry));
  const seen = new Set<string>();
  const modules = new Set<string>();
  const queue: string[] = [resolve(entry)];
  const read = (file: string): string | null => {
    const rel = relative(entryDir, file).split(sep).join('/');
    const generated = extraSources[rel] ?? extraSources[`${rel.replace(/\.ts$/, '')}.ts`];
    if (generated !== undefined) return generated;
    return existsSync(file) ? readFileSync(file, 'utf8') : null;
  };
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = read(file);
    if (text === null) continue;
    for (const spec of specifiers(text)) {
      let target: string | null = null;
      if (spec.startsWith('kiln/')) target = resolveFile(join(lib, spec.slice('kiln/'.length)));
      else if (spec.startsWith('.')) {
        const base = resolve(dirname(file), spec);
        const generated = relative(entryDir, base).split(sep).join('/');
        target = extraSources[`${generated}.ts`] !== undefined ? `${base}.ts` : resolveFile(base);
      }
      if (target === null) continue;
      if (target.startsWith(lib + sep)) {
        modules.add(`kiln/${relative(lib, target).split(sep).join('/').replace(/\.ts$/, '')}`);
      }
      queue.push(target);
    }
  }
  return [...modules].sort();
}
