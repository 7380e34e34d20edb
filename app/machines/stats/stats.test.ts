import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readHostNicCounters } from './host-nic.ts';
import { describeStatus, statusFromConsole } from '../exit-status.ts';
import { GuestStatsReader, parseGuestStatsLine } from './guest-stats.ts';
import { cpuPercent, readProc } from './proc-stats.ts';

test('the ABI example stats line parses', () => {
  const s = parseGuestStatsLine(
    'kiln-stats 1 t=2004 mem=3473408/66584576 net0=1230/9/0/998/7/0 blk0=4096/1/0/0/0',
  );
  assert.deepEqual(s, {
    uptimeMs: 2004,
    memUsed: 3473408,
    memTotal: 66584576,
    nics: [{ rxBytes: 1230, rxPackets: 9, rxDropped: 0, txBytes: 998, txPackets: 7, txDropped: 0 }],
  });
});

test('unknown fields and newer versions are tolerated; garbage is not a report', () => {
  const s = parseGuestStatsLine('kiln-stats 2 t=1 mem=1/2 net1=1/2/3/4/5/6/7 future=9 net0=0/0/0/0/0/0');
  assert.equal(s!.nics.length, 2);
  assert.equal(s!.nics[1]!.txDropped, 6);
  assert.equal(parseGuestStatsLine('hello world'), null);
  assert.equal(parseGuestStatsLine('kiln-stats x'), null);
});

test('the reader reassembles lines split across chunks and keeps the latest', () => {
  const r = new GuestStatsReader();
  assert.equal(r.push('kiln-stats 1 t=1 mem=1/2 net0=1/1/0/'), null);
  assert.equal(r.push('2/1/0\nkiln-stats 1 t=2 mem=1/2 net0=5/2/0/9/3/0\n')!.nics[0]!.rxBytes, 5);
  assert.equal(r.latest!.uptimeMs, 2);
});

test("CPU % from /proc deltas agrees with the process's own accounting", () => {
  const u0 = process.cpuUsage();
  const a = readProc(process.pid)!;
  const end = Date.now() + 300;
  while (Date.now() < end); // burn CPU (how much we get depends on the machine's load)
  const b = readProc(process.pid)!;
  const u = process.cpuUsage(u0);
  assert.ok(b.rssBytes > 1024 * 1024);
  const expected = ((u.user + u.system) / 1000 / (b.at - a.at)) * 100;
  const pct = cpuPercent(a, b);
  // /proc counts in 10 ms ticks: allow two ticks of error over the interval.
  const tolerance = (2 * 10 * 100) / (b.at - a.at);
  assert.ok(Math.abs(pct - expected) <= tolerance, `proc ${pct} vs cpuUsage ${expected}`);
  assert.equal(readProc(0x7ffffff0), null);
});

test('exit statuses follow ABI section 3', () => {
  assert.deepEqual(describeStatus(0), { crashed: false, reason: 'exited with status 0' });
  assert.equal(describeStatus(66).crashed, true);
  assert.match(describeStatus(94).reason, /invalid appliance image/);
  assert.match(describeStatus(96 + 13).reason, /#GP/);
  assert.equal(statusFromConsole('boot\nkiln: exit 3\n'), 3);
  assert.equal(statusFromConsole('no status'), null);
});

test('host NIC counters (tap/vif) are read from sysfs, swapped to the guest view', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-hostnic-'));
  try {
    const dir = join(root, 'tap7', 'statistics');
    mkdirSync(dir, { recursive: true });
    const values = {
      rx_bytes: 11,
      rx_packets: 1,
      rx_dropped: 0,
      tx_bytes: 2200,
      tx_packets: 20,
      tx_dropped: 3,
    };
    for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, k), `${v}\n`);
    assert.deepEqual(readHostNicCounters('tap7', root), {
      rxBytes: 2200,
      rxPackets: 20,
      rxDropped: 3,
      txBytes: 11,
      txPackets: 1,
      txDropped: 0,
    });
    assert.equal(readHostNicCounters('missing0', root), null);
    assert.equal(readHostNicCounters('../etc', root), null, 'no path tricks');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
