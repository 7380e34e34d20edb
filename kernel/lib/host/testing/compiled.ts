// Compiles an appliance for tests, caching the Wasm by a hash of every input (the compiler is
// deterministic, so equal inputs give equal bytes; the cache only saves minutes of asc time).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAppliance, LIB_DIR, templateAscOptions } from '../../build/compile-as.ts';

const cacheDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'wasm-cache');

function addTree(hash: ReturnType<typeof createHash>, dir: string): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    // Node-side code (host, build, fuzz runner, benchmarks) never ends up in the Wasm.
    if (['build', 'node_modules', 'host', 'bench', 'fuzz'].includes(name)) continue;
    if (statSync(full).isDirectory()) addTree(hash, full);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) hash.update(full).update(readFileSync(full));
  }
}

export async function compileCached(entry: string, optimize = false): Promise<Uint8Array> {
  const hash = createHash('sha256');
  hash
    .update(entry)
    .update(String(optimize))
    .update(JSON.stringify(templateAscOptions(entry)));
  hash.update(readFileSync(join(LIB_DIR, '..', '..', 'node_modules', 'assemblyscript', 'package.json')));
  addTree(hash, LIB_DIR);
  addTree(hash, dirname(entry));
  const path = join(cacheDir, `${hash.digest('hex')}.wasm`);
  if (existsSync(path)) return readFileSync(path);
  const r = await compileAppliance({ entry, optimize });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length)
    throw new Error(
      errors.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}\n${d.excerpt}`).join('\n'),
    );
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path, r.wasm);
  return r.wasm;
}
