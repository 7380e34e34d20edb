// Test fixture: a network namespace with a TAP device, Linux on the other end as the peer.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

export interface TapNetns {
  ns: string;
  tap: string;
  /** Linux's address on the tap (the appliance's peer). */
  hostIp: string;
  prefix: number;
  /** Runs a command inside the namespace. */
  exec(
    cmd: string,
    args: string[],
    opts?: { timeoutMs?: number; input?: string },
  ): Promise<{ stdout: string; stderr: string }>;
  cleanup(): void;
}

let counter = 0;

/** Creates `kiln-<tag>-<pid>-<n>` with tap0 up and `hostIp/prefix` on it. */
export function createTapNetns(tag: string, hostIp = '10.77.0.1', prefix = 24): TapNetns {
  const ns = `kiln-${tag}-${process.pid}-${counter++}`;
  const tap = 'tap0';
  const ip = (...a: string[]): void => {
    execFileSync('ip', a, { stdio: 'pipe' });
  };
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    ip('-n', ns, 'addr', 'add', `${hostIp}/${prefix}`, 'dev', tap);
    ip('-n', ns, 'link', 'set', tap, 'up');
  } catch (e) {
    ip('netns', 'del', ns);
    throw e;
  }
  return {
    ns,
    tap,
    hostIp,
    prefix,
    async exec(cmd, args, opts = {}) {
      const p = promisify(execFile)('ip', ['netns', 'exec', ns, cmd, ...args], {
        timeout: opts.timeoutMs ?? 60000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      });
      if (opts.input !== undefined) p.child.stdin?.end(opts.input);
      return await p;
    },
    cleanup() {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      } catch {
        /* already gone */
      }
    },
  };
}

/** True when this process may create namespaces and TAP devices. */
export function canUseNetns(): boolean {
  try {
    const ns = `kiln-probe-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
