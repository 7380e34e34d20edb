// Compiles xlcfg2json.c (linked with libxenlight/libxlutil from Debian's libxen-dev) once per
// process and runs it on a config file: libxl's own parser as the judge of generated configs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let binary: string | null = null;

export function xlcfg2jsonBinary(): string {
  if (binary) return binary;
  const out = join(mkdtempSync(join(tmpdir(), 'kiln-xlcfg-')), 'xlcfg2json');
  const src = new URL('./xlcfg2json.c', import.meta.url).pathname;
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O1', '-o', out, src, '-lxlutil', '-lxenlight']);
  binary = out;
  return out;
}

export function parseWithLibxl(
  cfgPath: string,
): { ok: true; config: Record<string, unknown> } | { ok: false; error: string } {
  const r = spawnSync(xlcfg2jsonBinary(), [cfgPath], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, error: r.stderr.trim() };
  return { ok: true, config: JSON.parse(r.stdout) as Record<string, unknown> };
}
