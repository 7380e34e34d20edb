// Builds kernel/build/kiln-harness on demand (make decides whether it is stale).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const HARNESS_PATH = join(here, '..', '..', 'build', 'kiln-harness');

let checked = false;

/** Returns the harness path, building it first if needed (flock: tests may run in parallel).
 * Checked once per process: callers such as the fuzzer run it thousands of times. */
export function ensureHarness(): string {
  if (checked) return HARNESS_PATH;
  execFileSync('flock', ['/tmp/kiln-harness-build.lock', 'make', '-s', '-C', here], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  checked = true;
  return HARNESS_PATH;
}
