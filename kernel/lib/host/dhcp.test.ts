// The DHCP client against a real DHCP server (dnsmasq) in a network namespace: the appliance
// gets an address, answers on it, and renews its lease at T1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { startAppliance } from './appliance.ts';
import { canUseNetns, createTapNetns } from './netns.ts';
import { compileCached } from './testing/compiled.ts';

const here = dirname(fileURLToPath(import.meta.url));
const echoEntry = join(here, '..', '..', '..', 'resources', 'templates', 'echo', 'main.ts');

function hasDnsmasq(): boolean {
  try {
    execFileSync('dnsmasq', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
const skip = !canUseNetns()
  ? 'needs root for network namespaces'
  : !hasDnsmasq()
    ? 'dnsmasq not installed (scripts/system-packages.txt: dnsmasq-base)'
    : false;

describe('DHCP client', { skip, timeout: 600_000 }, () => {
  test('gets a lease from dnsmasq, serves on it, renews at T1', async () => {
    const wasm = await compileCached(echoEntry);
    const n = createTapNetns('dhcp');
    const dir = mkdtempSync(join(tmpdir(), 'kiln-dhcp-'));
    let log = '';
    const server = spawn(
      'ip',
      [
        'netns',
        'exec',
        n.ns,
        'dnsmasq',
        '--no-daemon',
        '--conf-file=/dev/null',
        '--port=0',
        '--user=root',
        `--interface=${n.tap}`,
        '--bind-interfaces',
        '--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m',
        '--dhcp-option=option:router,10.77.0.1',
        '--dhcp-option=option:T1,4',
        '--dhcp-option=option:T2,100',
        `--dhcp-leasefile=${join(dir, 'leases')}`,
        `--pid-file=${join(dir, 'pid')}`,
        '--log-dhcp',
        '--log-facility=-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout.on('data', (b: Buffer) => (log += b.toString()));
    server.stderr.on('data', (b: Buffer) => (log += b.toString()));
    try {
      const h = await startAppliance({
        wasm,
        config: { ipv4_mode: 'dhcp', hostname: 'kiln-dhcp-test', port: 7 },
        nics: [{ tap: n.tap, netns: n.ns }],
      });
      await h.waitForOutput('kiln: ready', 30_000);
      const m = /serving UDP and TCP on (10\.77\.0\.\d+):7/.exec(h.output());
      assert.ok(m, h.output());
      const ip = m[1]!;
      const octet = Number(ip.split('.')[3]);
      assert.ok(octet >= 50 && octet <= 60, `address ${ip} from the pool`);
      assert.match(log, /DHCPACK\(tap0\) 10\.77\.0\.\d+ [0-9a-f:]+ kiln-dhcp-test/);
      const tcp = await n.exec('socat', ['-t', '5', '-', `TCP:${ip}:7`], { input: 'leased\n' });
      assert.equal(tcp.stdout, 'leased\n');
      // Renewal: T1 = 4 s, so a second REQUEST/ACK for the same address follows shortly.
      const deadline = Date.now() + 20_000;
      while ((log.match(/DHCPACK/g) ?? []).length < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      assert.ok((log.match(/DHCPACK/g) ?? []).length >= 2, `no renewal seen:\n${log}`);
      assert.match(log, new RegExp(`DHCPREQUEST\\(tap0\\) ${ip.replace(/\./g, '\\.')}`));
      await h.stop();
    } finally {
      server.kill('SIGTERM');
      n.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
