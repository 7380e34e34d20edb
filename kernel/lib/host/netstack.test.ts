// The library OS network stack under Node, with Linux as the peer through a TAP device in a
// network namespace created by the test: ping, UDP/TCP echo, gratuitous ARP, 500 concurrent
// connections, 10 MB through a lossy/reordering/delayed link, a vanishing client, DHCP.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startAppliance, type ApplianceHandle, type StartOptions } from './appliance.ts';
import { canUseNetns, createTapNetns, type TapNetns } from './netns.ts';
import { compileCached } from './testing/compiled.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const echoEntry = join(repo, 'resources', 'templates', 'echo', 'main.ts');
const client = join(here, 'testing', 'tcp-client.ts');
const skip = canUseNetns() ? false : 'needs root to create network namespaces and TAP devices';
const APP_IP = '10.77.0.2';
const staticConfig = {
  ipv4_mode: 'static',
  ipv4_address: `${APP_IP}/24`,
  ipv4_gateway: '10.77.0.1',
  port: 7,
};

let wasm: Uint8Array;

async function boot(
  n: TapNetns,
  extra: Partial<StartOptions> = {},
  config: object = staticConfig,
): Promise<ApplianceHandle> {
  const h = await startAppliance({ wasm, config, nics: [{ tap: n.tap, netns: n.ns }], ...extra });
  await h.waitForOutput('kiln: ready', 20000);
  return h;
}

async function runClient(n: TapNetns, args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  const { stdout } = await n.exec(process.execPath, ['--import', 'tsx', client, ...args], { timeoutMs });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return check();
}

describe('netstack under Node with Linux as the peer', { skip, timeout: 900_000 }, () => {
  before(async () => {
    wasm = await compileCached(echoEntry);
  });

  test('ping, UDP echo, TCP echo, gratuitous ARP', async () => {
    const n = createTapNetns('echo');
    let h: ApplianceHandle | undefined;
    try {
      // Let Linux learn neighbours from gratuitous ARP, so we can see the announcement.
      await n.exec('sysctl', ['-q', '-w', `net.ipv4.conf.${n.tap}.arp_accept=1`]);
      h = await boot(n);
      const neigh = await n.exec('ip', ['neigh', 'show', 'dev', n.tap]);
      assert.match(
        neigh.stdout,
        new RegExp(`${APP_IP.replace(/\./g, '\\.')} lladdr`),
        'gratuitous ARP announced the address',
      );
      const ping = await n.exec('ping', ['-c', '3', '-i', '0.2', '-w', '10', APP_IP]);
      assert.match(ping.stdout, / 0% packet loss/);
      // Fragmented ICMP echo: 4000 bytes need reassembly in the appliance and fragmentation back.
      const big = await n.exec('ping', ['-c', '2', '-i', '0.2', '-s', '4000', '-w', '10', APP_IP]);
      assert.match(big.stdout, / 0% packet loss/);
      const udp = await n.exec('socat', ['-t', '2', '-', `UDP:${APP_IP}:7`], { input: 'hello over udp\n' });
      assert.equal(udp.stdout, 'hello over udp\n');
      const tcp = await n.exec('socat', ['-t', '5', '-', `TCP:${APP_IP}:7`], { input: 'hello over tcp\n' });
      assert.equal(tcp.stdout, 'hello over tcp\n');
      // A closed port answers RST (connection refused), not silence.
      await assert.rejects(
        n.exec('socat', ['-t', '2', '-', `TCP:${APP_IP}:9`], { input: 'x' }),
        /Connection refused/,
      );
      const s = await h!.stats();
      assert.equal(s.values.tcpAccepted, 1);
    } finally {
      await h?.stop();
      n.cleanup();
    }
  });

  test('500 concurrent TCP connections, then none left', async () => {
    const n = createTapNetns('many');
    let h: ApplianceHandle | undefined;
    try {
      h = await boot(n, {}, { ...staticConfig, backlog: 1024 });
      const r = await runClient(n, ['many', APP_IP, '7', '500'], 240_000);
      assert.deepEqual([r.ok, r.failed], [500, 0]);
      const clean = await until(async () => (await h!.stats()).values.tcpActive === 0, 10_000);
      const s = await h!.stats();
      assert.ok(clean, `connections left: ${JSON.stringify(s.values)}`);
      assert.ok(s.values.tcpAccepted! >= 500);
      // Rings grow on demand (ring.ts): 500 connections of 1 KiB each must not cost 500 x 128 KiB
      // of buffers, which is what ran a 64 MiB VM out of memory (trap in memory.grow's caller).
      assert.ok(s.memoryBytes < 24 * 1024 * 1024, `linear memory ${s.memoryBytes} bytes`);
    } finally {
      await h?.stop();
      n.cleanup();
    }
  });

  test('10 MB echoed intact through 5% loss, reordering and 50 ms delay', async () => {
    const n = createTapNetns('lossy');
    let h: ApplianceHandle | undefined;
    try {
      h = await boot(n, { impair: { loss: 0.05, delayMs: 50, reorder: 0.25 } });
      const r = await runClient(n, ['bulk', APP_IP, '7', String(10 * 1024 * 1024)], 600_000);
      assert.equal(r.ok, true, JSON.stringify(r));
      // Linux's retransmissions (its namespace's own counters) show the losses were real and
      // repaired through our out-of-order queue and duplicate ACKs.
      const snmp = (await n.exec('cat', ['/proc/net/snmp'])).stdout
        .split('\n')
        .filter((l) => l.startsWith('Tcp:'));
      const fields = snmp[0]!.split(/\s+/);
      const linuxRetrans = Number(snmp[1]!.split(/\s+/)[fields.indexOf('RetransSegs')]);
      assert.ok(linuxRetrans > 0, 'the link lost segments and Linux repaired them');
      const s = await h!.stats();
      console.log(
        `# 10 MB echo under loss: ${r.ms} ms, Linux retransmitted ${linuxRetrans} segments, the appliance ${s.values.tcpRetransmits}`,
      );
    } finally {
      await h?.stop();
      n.cleanup();
    }
  });

  test('active open: the appliance connects to a Linux listener', async () => {
    const n = createTapNetns('connect');
    const listener = n.exec(
      'socat',
      ['-T', '20', 'TCP-LISTEN:9000,reuseaddr', 'SYSTEM:read line; echo got-$line'],
      { timeoutMs: 60_000 },
    );
    let h: ApplianceHandle | undefined;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const app = await compileCached(join(here, '..', 'apps', 'connect-app.ts'));
      h = await startAppliance({
        wasm: app,
        config: { ...staticConfig, peer: '10.77.0.1', peer_port: 9000 },
        nics: [{ tap: n.tap, netns: n.ns }],
      });
      const exit = await h.exited;
      assert.match(h.output(), /reply: got-hello from kiln/);
      assert.equal(exit.status, 0, h.output());
      await listener;
    } finally {
      await h?.stop();
      n.cleanup();
    }
  });

  test('a client that vanishes mid-transfer leaves no state behind', async () => {
    const n = createTapNetns('vanish');
    let h: ApplianceHandle | undefined;
    try {
      h = await boot(n, {}, { ...staticConfig, tcp_user_timeout_ms: 3000 });
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          n.ns,
          process.execPath,
          '--import',
          'tsx',
          client,
          'stall',
          APP_IP,
          '7',
          String(4 * 1024 * 1024),
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (b: Buffer) => b.toString().includes('stalled') && resolve()),
      );
      const mid = await h.stats();
      assert.equal(mid.values.tcpActive, 1);
      assert.ok(mid.values.tcpBufferedBytes! > 0, 'the appliance holds unsent echo data');
      // The client's host disappears: its link goes away, then the process dies without a word.
      await n.exec('ip', ['link', 'set', n.tap, 'down']);
      child.kill('SIGKILL');
      const clean = await until(async () => (await h!.stats()).values.tcpActive === 0, 60_000);
      const s = await h!.stats();
      assert.ok(clean, JSON.stringify(s.values));
      assert.equal(s.values.tcpBufferedBytes, 0);
    } finally {
      await h?.stop();
      n.cleanup();
    }
  });
});

after(() => {});
