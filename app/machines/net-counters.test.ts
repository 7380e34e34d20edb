// Network counters match what the test actually sent: the kernel base's test appliance
// (net-sink) on a tap inside a network namespace created here; N frames of known size are
// written into the tap with a raw socket; the counters the service stores (from the guest's
// stats channel) and the tap's own counters must both say exactly N frames and N*size bytes.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EventBus } from '../events.ts';
import { Store } from '../store/index.ts';
import { defaultMac } from './qemu/command-line.ts';
import { QemuBackend } from './qemu/qemu-backend.ts';
import { MachineService } from './service.ts';
import { kernelBaseTestImage } from './testing/pvh-test-kernel.ts';

const ns = `kiln-mach-${process.pid}`;
const tap = 'ktap0';
const image = kernelBaseTestImage();
const isRoot = process.getuid?.() === 0;
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const skip = !isRoot
  ? 'needs root (tap in a network namespace)'
  : !image
    ? 'kernel/build/kiln-test.elf not built (make -C kernel)'
    : false;

const home = mkdtempSync(join(tmpdir(), 'kiln-netc-'));
after(() => {
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(home, { recursive: true, force: true });
});

const sendFrames = `
import socket, sys
mac = bytes.fromhex(sys.argv[1].replace(':', ''))
n, size = int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('${tap}', 0))
src = bytes.fromhex('020000000001')
for i in range(n):
    s.send(mac + src + b'\\x88\\xb6' + bytes([i % 256]) * (size - 14))
s.send(mac + src + b'\\x88\\xb5' + b'quit' + bytes(42))
`;

const waitFor = async (pred: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('NIC counters equal the frames sent through a tap', { skip }, async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  // No IPv6 on the tap: the kernel would otherwise add its own router/neighbour frames.
  execFileSync('ip', [
    'netns',
    'exec',
    ns,
    'sh',
    '-c',
    `echo 1 > /proc/sys/net/ipv6/conf/${tap}/disable_ipv6`,
  ]);
  execFileSync('ip', ['-n', ns, 'link', 'set', tap, 'up']);
  const wrapper = join(home, 'qemu-in-netns');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} qemu-system-x86_64 "$@"\n`);
  chmodSync(wrapper, 0o755);

  const store = Store.open(home);
  store.appliances.create({ name: 'sink', template: null, config: {} });
  const svc = new MachineService(store, new EventBus(), home, {
    sampleIntervalMs: 200,
    backends: { qemu: new QemuBackend(process.platform, wrapper) },
  });
  try {
    const run = await svc.run({
      appliance: 'sink',
      image: image!,
      cmdline: 'test=net-sink',
      nics: [{ mode: 'tap', ifname: tap }],
    });
    await waitFor(() => svc.consoleSnapshot(run.id).text.includes('kiln: ready'));
    const n = 50;
    const size = 200;
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      python,
      '-c',
      sendFrames,
      defaultMac('sink', 0),
      String(n),
      String(size),
    ]);
    const exit = await svc.waitForExit(run.id);
    assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 0]);
    const quitLen = 14 + 4 + 42;
    const last = svc.repo.netSamples(run.id).at(-1)!;
    assert.equal(last.rxPackets, n + 1);
    assert.equal(last.rxBytes, n * size + quitLen);
    assert.equal(last.rxDropped, 0);
    const tapTx = Number(
      execFileSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${tap}/statistics/tx_packets`], {
        encoding: 'utf8',
      }),
    );
    const tapTxBytes = Number(
      execFileSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${tap}/statistics/tx_bytes`], {
        encoding: 'utf8',
      }),
    );
    assert.deepEqual(
      [tapTx, tapTxBytes],
      [n + 1, n * size + quitLen],
      "the tap's counters agree with the guest's",
    );
    assert.match(svc.repo.consoleText(run.id), new RegExp(`net: nic 0 received ${n + 1}`));
  } finally {
    svc.close();
    store.close();
  }
});
