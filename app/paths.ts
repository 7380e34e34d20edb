import { homedir, platform } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** The checkout (or unpacked app) root: the nearest folder above this module with a package.json. */
export function repoRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'resources'))) return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new Error(
        `Kiln's resources folder was not found above ${fileURLToPath(import.meta.url)}; set KILN_RESOURCES.`,
      );
    dir = up;
  }
}
