// The xl output parsers against the formats documented in xl(1).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDom0 } from './xen-backend.ts';
import { parseXlList, parseXlListLong, parseXlNetworkList, readVifCounters } from './xl-parsers.ts';

// The example of `xl list` in xl(1), plus a crashed and a paused kiln domain.
const xlList = `Name                                        ID   Mem VCPUs\tState\tTime(s)
Domain-0                                     0   750     4     r-----   11794.3
win                                          1  1019     1     r-----       0.3
linux                                        2  2048     2     r-----    5624.2
kiln-web-7                                   3    64     1     --p---       0.0
kiln-dns-8                                   4    64     1     ----c-       1.5
`;

test('xl list: columns and the six state flags', () => {
  const d = parseXlList(xlList);
  assert.deepEqual(
    d.map((x) => [x.name, x.id, x.memMiB, x.vcpus]),
    [
      ['Domain-0', 0, 750, 4],
      ['win', 1, 1019, 1],
      ['linux', 2, 2048, 2],
      ['kiln-web-7', 3, 64, 1],
      ['kiln-dns-8', 4, 64, 1],
    ],
  );
  assert.equal(d[0]!.flags.running, true);
  assert.equal(d[0]!.cpuSeconds, 11794.3);
  assert.equal(d[3]!.flags.paused, true);
  assert.equal(d[4]!.flags.crashed, true);
  assert.equal(d[4]!.flags.running, false);
});

test('xl list -l: JSON with domid and libxl config', () => {
  const json = JSON.stringify([
    {
      domid: 3,
      config: {
        c_info: { type: 'pvh', name: 'kiln-web-7' },
        b_info: { max_vcpus: 1, max_memkb: 65536, kernel: '/img/web.elf', cmdline: '' },
        on_crash: 'preserve',
      },
    },
  ]);
  assert.deepEqual(parseXlListLong(json), [
    {
      domid: 3,
      name: 'kiln-web-7',
      type: 'pvh',
      kernel: '/img/web.elf',
      memoryKiB: 65536,
      vcpus: 1,
      onCrash: 'preserve',
    },
  ]);
  assert.throws(() => parseXlListLong('{}'), /JSON array/);
});

test('xl network-list', () => {
  const text = `Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path
0   0  00:16:3e:4a:b1:0c 0      4     19       768/769         /local/domain/0/backend/vif/3/0
1   0  00:16:3E:4A:B1:0D 1      4     20       1280/1281       /local/domain/0/backend/vif/3/1
`;
  const v = parseXlNetworkList(text);
  assert.equal(v.length, 2);
  assert.deepEqual(v[1], {
    idx: 1,
    backendDomid: 0,
    mac: '00:16:3e:4a:b1:0d',
    handle: 1,
    state: 4,
    eventChannel: 20,
    txRingRef: 1280,
    rxRingRef: 1281,
    backendPath: '/local/domain/0/backend/vif/3/1',
  });
});

test('vif counters from dom0 sysfs are turned to the guest point of view', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-sysfs-'));
  try {
    const dir = join(root, 'vif3.0', 'statistics');
    mkdirSync(dir, { recursive: true });
    const values = {
      rx_bytes: 1000,
      rx_packets: 10,
      rx_dropped: 1,
      tx_bytes: 5000,
      tx_packets: 40,
      tx_dropped: 2,
    };
    for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, k), `${v}\n`);
    assert.deepEqual(readVifCounters(3, 0, root), {
      rxBytes: 5000,
      rxPackets: 40,
      rxDropped: 2,
      txBytes: 1000,
      txPackets: 10,
      txDropped: 1,
    });
    assert.equal(readVifCounters(3, 1, root), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('dom0 detection', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-xencaps-'));
  try {
    writeFileSync(join(root, 'caps'), 'control_d\n');
    assert.equal(isDom0(join(root, 'caps')), true);
    writeFileSync(join(root, 'caps'), '\n');
    assert.equal(isDom0(join(root, 'caps')), false);
    assert.equal(isDom0(join(root, 'missing')), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
