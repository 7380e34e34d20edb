import { homedir, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The data home: $KILN_HOME when set, else the platform's per-user application-data folder. */
export function kilnHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_HOME) return resolve(env.KILN_HOME);
  switch (platform()) {
    case 'darwin':
      return join(homedir(), 'Library', 'Application Support', 'Kiln');
    case 'win32':
      return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Kiln');
    default:
      return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'kiln');
  }
}

/**
 * Where the repository's (or the packaged app's) bundled resources are. In a packaged Electron
 * app they sit beside the asar; in a checkout they are at the top of the tree.
 */
export function resourcesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_RESOURCES) return resolve(env.KILN_RESOURCES);
  return join(repoRoot(), 'resources');
}

export function repoRoot(): string {
  // app/paths.ts -> repository root; also right for dist/app bundles one level deeper.
  const here = fileURLToPath(new URL('.', import.meta.url));
  return resolve(here, here.includes(`${join('dist', 'app')}`) ? '../..' : '..');
}
