// Starts the real `kiln serve` (a separate process, like a user would) on a temporary KILN_HOME,
// for API and browser end-to-end tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import { tempHome } from './temp-home.ts';

export interface WebMode {
  url: string;
  origin: string;
  token: string;
  home: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Builds the renderer once per checkout if it is missing (tests never depend on a stale build). */
export function ensureRendererBuilt(): void {
  const root = repoRoot();
  if (existsSync(join(root, 'dist', 'renderer', 'index.html')) && !process.env.KILN_REBUILD_RENDERER) return;
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), 'renderer'], {
    cwd: root,
    stdio: 'inherit',
  });
}

export async function startWebMode(opts: { home?: string; env?: NodeJS.ProcessEnv } = {}): Promise<WebMode> {
  ensureRendererBuilt();
  const home = opts.home ? { dir: opts.home, remove() {} } : tempHome();
  const root = repoRoot();
  const child = spawn(process.execPath, [join(root, 'bin', 'kiln.js'), 'serve', '--json'], {
    cwd: root,
    env: { ...process.env, ...opts.env, KILN_HOME: home.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    // Generous: on a loaded 2-core CI machine loading the engine through tsx alone can take a minute.
    const timer = setTimeout(
      () => reject(new Error(`kiln serve did not start in 180 s: ${stderr}`)),
      180_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kiln serve exited with ${code}: ${stderr}`));
    });
  });
  const { url } = JSON.parse(line) as { url: string };
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token')!,
    home: home.dir,
    process: child,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      home.remove();
    },
  };
}
