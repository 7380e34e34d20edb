// The `kv` template as a whole appliance (library OS TCP/IP included) under Node on a TAP in a
// network namespace: redis-cli, redis-benchmark, and the append-only log on a disk image that
// a second boot replays.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, type ApplianceHandle } from '../host/appliance.ts';
import { canUseNetns, createTapNetns, type TapNetns } from '../host/netns.ts';
import { compileTemplate, templateAssets } from '../bench/templates.ts';

const skip = canUseNetns() ? false : 'needs root to create network namespaces and TAP devices';
const APP = '10.77.0.2';
const config = {
  ipv4_mode: 'static',
  ipv4_address: `${APP}/24`,
  ipv4_gateway: '10.77.0.1',
  port: 6379,
  persist: true,
};

describe('kv appliance with redis-cli and redis-benchmark', { skip, timeout: 900_000 }, () => {
  let n: TapNetns;
  let wasm: Uint8Array;
  let dir: string;
  let disk: string;

  before(async () => {
    wasm = await compileTemplate('kv', templateAssets('kv'));
    n = createTapNetns('kv');
    dir = mkdtempSync(join(tmpdir(), 'kiln-kv-app-'));
    disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(4 * 1024 * 1024));
  });

  after(() => {
    n?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function boot(): Promise<ApplianceHandle> {
    const h = await startAppliance({ wasm, config, nics: [{ tap: n.tap, netns: n.ns }], disks: [disk] });
    await h.waitForOutput('kiln: ready', 60_000);
    return h;
  }

  async function cli(...args: string[]): Promise<string> {
    return (await n.exec('redis-cli', ['-h', APP, ...args])).stdout.replace(/\n$/, '');
  }

  test('commands, benchmark, and data surviving a reboot through the log', async () => {
    let h = await boot();
    try {
      assert.match(h.output(), /formatted the disk/);
      assert.equal(await cli('PING'), 'PONG');
      assert.equal(await cli('SET', 'name', 'kiln'), 'OK');
      assert.equal(await cli('GET', 'name'), 'kiln');
      assert.equal(await cli('SET', 'tmp', 'x', 'EX', '1000'), 'OK');
      assert.equal(await cli('INCRBY', 'n', '5'), '5');
      assert.equal(await cli('DBSIZE'), '3');
      const b = await n.exec(
        'redis-benchmark',
        ['-h', APP, '-n', '2000', '-c', '20', '-t', 'ping,set,get', '-q'],
        { timeoutMs: 180_000 },
      );
      assert.match(b.stdout, /SET: [\d.]+ requests per second/);
      assert.match(b.stdout, /GET: [\d.]+ requests per second/);
    } finally {
      await h.stop();
    }
    h = await boot();
    try {
      assert.match(h.output(), /replayed \d+ commands/);
      assert.equal(await cli('GET', 'name'), 'kiln');
      assert.equal(await cli('GET', 'n'), '5');
      assert.ok(Number(await cli('TTL', 'tmp')) > 900);
      assert.equal((await cli('GET', 'key:__rand_int__')).length, 3); // written by redis-benchmark
    } finally {
      await h.stop();
    }
  });
});
