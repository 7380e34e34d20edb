// virtio-net on a real tap device inside a network namespace the test creates: frames go
// through the host kernel (AF_PACKET peer, test/tap_peer.c), and the guest's own counters on the
// stats channel match the tap's counters in /sys (the tap's rx is the guest's tx).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootImage, ensureKernelBuilt, type Machine } from './qemu-run.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const NS = `kiln-base-${process.pid}`;
const GUEST_MAC = '52:54:00:ab:cd:01';

function sh(cmd: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
}

function missing(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace and a tap';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (sh(['ip', '-V']).status !== 0) return 'iproute2 (ip) is missing';
  return false;
}

before(() => ensureKernelBuilt());

for (const machine of ['microvm', 'q35'] as Machine[]) {
  test(
    `frames round-trip through a tap in a network namespace; counters match the tap's (${machine})`,
    { skip: missing() },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-tap-'));
      const ns = `${NS}-${machine}`;
      try {
        const peer = join(dir, 'tap_peer');
        const cc = sh(['gcc', '-O1', '-Wall', '-Wextra', '-Werror', '-o', peer, join(HERE, 'tap_peer.c')]);
        assert.equal(cc.status, 0, cc.stderr);
        for (const c of [
          ['ip', 'netns', 'add', ns],
          ['ip', '-n', ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
          ['ip', '-n', ns, 'link', 'set', 'tap0', 'up'],
        ]) {
          const r = sh(c);
          assert.equal(r.status, 0, `${c.join(' ')}: ${r.stderr}`);
        }
        let out = '';
        let ready = (): void => {};
        const isReady = new Promise<void>((r) => (ready = r));
        const run = bootImage({
          machine,
          append: 'test=net-echo',
          netdevs: [{ backend: 'tap,ifname=tap0,script=no,downscript=no', mac: GUEST_MAC }],
          wrapper: ['ip', 'netns', 'exec', ns],
          stats: true,
          timeoutMs: 60000,
          onOutput: (c) => {
            out += c;
            if (out.includes('kiln: ready')) ready();
          },
        });
        await Promise.race([isReady, run.then((r) => assert.fail(`exited early: ${r.stdout}${r.stderr}`))]);
        const count = 200;
        const p = sh(['ip', 'netns', 'exec', ns, peer, 'tap0', GUEST_MAC, String(count)]);
        assert.equal(p.status, 0, p.stdout + p.stderr);
        assert.match(p.stdout, new RegExp(`echoed ${count}`));
        const r = await run;
        assert.equal(r.exitStatus, 0, r.stdout);
        const tapRx = Number(
          sh(['ip', 'netns', 'exec', ns, 'cat', '/sys/class/net/tap0/statistics/rx_packets']).stdout,
        );
        const tapRxBytes = Number(
          sh(['ip', 'netns', 'exec', ns, 'cat', '/sys/class/net/tap0/statistics/rx_bytes']).stdout,
        );
        const last = r.stats.trim().split('\n').at(-1)!;
        const m = /net0=(\d+)\/(\d+)\/(\d+)\/(\d+)\/(\d+)\/(\d+)/.exec(last);
        assert.ok(m, last);
        // the host kernel may add frames of its own (IPv6 neighbour discovery): the guest echoes
        // every frame but the quit one
        assert.ok(Number(m[5]) >= count, `guest tx packets ${m[5]}`);
        assert.equal(Number(m[5]), tapRx, "guest tx packets = the tap's rx packets");
        assert.equal(Number(m[4]), tapRxBytes, "guest tx bytes = the tap's rx bytes");
        assert.equal(Number(m[2]), Number(m[5]) + 1, 'guest rx packets: every echoed frame and one quit');
      } finally {
        sh(['ip', 'netns', 'del', ns]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
