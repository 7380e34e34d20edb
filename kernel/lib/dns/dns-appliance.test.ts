// The `dns` template as a whole appliance (library OS TCP/IP included) under Node on a TAP in a
// network namespace, queried by the real `dig` over UDP and TCP.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startAppliance, type ApplianceHandle } from '../host/appliance.ts';
import { canUseNetns, createTapNetns, type TapNetns } from '../host/netns.ts';
import { compileTemplate, dnsZoneConfig } from '../bench/templates.ts';
import { TEST_ZONE } from '../bench/fixtures.ts';
import { checkNegativeAndTcp, checkZoneAnswers, digAt, type Dig } from '../host/testing/client-checks.ts';
import { dnsperf, writeQueries } from '../bench/clients.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const skip = canUseNetns() ? false : 'needs root to create network namespaces and TAP devices';
const APP = '10.77.0.2';

describe('dns appliance answering dig', { skip, timeout: 900_000 }, () => {
  let n: TapNetns;
  let h: ApplianceHandle;

  before(async () => {
    const wasm = await compileTemplate('dns', {});
    n = createTapNetns('dns');
    h = await startAppliance({
      wasm,
      config: {
        ipv4_mode: 'static',
        ipv4_address: `${APP}/24`,
        ipv4_gateway: '10.77.0.1',
        ...(await dnsZoneConfig(TEST_ZONE)),
        port: 53,
      },
      nics: [{ tap: n.tap, netns: n.ns }],
    });
    await h.waitForOutput('kiln: ready', 60_000);
  });

  after(async () => {
    await h?.stop();
    n?.cleanup();
  });

  const client = (): Dig => digAt(n.exec, APP, 2);

  test('every record type over UDP', async () => {
    await checkZoneAnswers(client());
  });

  test('NXDOMAIN with SOA, REFUSED outside the zone, queries over TCP', async () => {
    await checkNegativeAndTcp(client());
    assert.deepEqual(await client().short('example.test', 'MX', '+tcp'), [
      '10 mail.example.test.',
      '20 mail2.other.test.',
    ]);
  });

  // The template is built with the minimal runtime: only the loop's collections between turns
  // free garbage (kernel/lib/loop.ts). Every query leaves some behind: without the collections
  // the memory grew from 384 KiB to 192 MiB in 3 s of this load; with them it rose to 3 MiB (the
  // allocator grows the memory by doubling it) and stayed there for 14 s.
  test('memory stays bounded under a query load (garbage collected between turns)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-dns-gc-'));
    try {
      const queries = writeQueries(dir);
      const start = (await h.stats()).memoryBytes;
      const r1 = await dnsperf(n, queries, APP, 53, 2);
      const mid = (await h.stats()).memoryBytes;
      const r2 = await dnsperf(n, queries, APP, 53, 2);
      const end = (await h.stats()).memoryBytes;
      console.log(`dns under dnsperf: ${r1.qps}, ${r2.qps} q/s; memory ${start} -> ${mid} -> ${end} bytes`);
      assert.ok(r1.qps + r2.qps > 2000, `too few queries to tell: ${r1.qps}, ${r2.qps} q/s`);
      assert.ok(Math.max(mid, end) <= 8 << 20, `memory grew from ${start} to ${mid}, then ${end} bytes`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
