// The compiled zone (zone-blob.ts): the build's compiler (zone-compiler.ts under Node) and the
// appliance's loader, as Wasm. A damaged blob must give a clear error, never trap.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { compileEngine } from '../bench/loopback.ts';
import { dnsZoneConfig } from '../bench/templates.ts';
import { TEST_ZONE } from '../bench/fixtures.ts';
import { ZoneSyntaxError } from './zone-compiler-host.ts';
import { Wasm, type WasmMemory } from '../host/wasm-api.ts';

interface LoaderExports {
  memory: WasmMemory;
  inPtr(): number;
  outPtr(): number;
  loadBlob(len: number): number;
}

let loader: LoaderExports;
let blob: Uint8Array;

/** null when the blob loads, else the loader's message; an abort (trap) throws. */
function load(b: Uint8Array): string | null {
  new Uint8Array(loader.memory.buffer, loader.inPtr(), b.length).set(b);
  const n = loader.loadBlob(b.length);
  if (n === 0) return null;
  return Buffer.from(new Uint8Array(loader.memory.buffer, loader.outPtr(), n)).toString('latin1');
}

/** The blob with its trailing FNV-1a checksum recomputed, so structural checks are reached. */
function resum(b: Uint8Array): Uint8Array {
  const out = b.slice();
  let h = 0x811c9dc5;
  for (let i = 0; i < out.length - 4; i++) h = Math.imul(h ^ out[i]!, 0x01000193) >>> 0;
  new DataView(out.buffer).setUint32(out.length - 4, h, true);
  return out;
}

before(async () => {
  const abort = (): never => {
    throw new Error('the loader trapped (abort)');
  };
  const { instance } = await Wasm.instantiate(await compileEngine('dns'), { env: { abort } });
  loader = instance.exports as unknown as LoaderExports;
  blob = new Uint8Array(Buffer.from((await dnsZoneConfig(TEST_ZONE)).zone_file, 'base64'));
});

test('the compiled zone loads, and is far smaller than its text', () => {
  assert.equal(load(blob), null);
  assert.equal(Buffer.from(blob.subarray(0, 5)).toString('latin1'), 'KZON\x01');
  assert.ok(blob.length < TEST_ZONE.length * 2, `${blob.length} bytes`);
});

test('a bad zone is rejected by the compiler with the line and the setting', async () => {
  await assert.rejects(
    dnsZoneConfig('$ORIGIN x.\n@ SOA a b 1 2 3 4 5\nwww A 300.1.1.1\n'),
    (e: unknown) => e instanceof ZoneSyntaxError && e.setting === 'zone_file' && /^line 3: bad IPv4/.test(e.message),
  );
});

test('truncated, damaged or foreign blobs give a clear error', () => {
  for (let n = 0; n < blob.length; n++) assert.match(load(blob.subarray(0, n)) ?? 'loaded', /^compiled zone: /);
  for (let i = 0; i < blob.length; i++) {
    const b = blob.slice();
    b[i]! ^= 0x20;
    assert.match(load(b) ?? 'loaded', /^compiled zone: /, `byte ${i}`);
  }
  const v2 = blob.slice();
  v2[4] = 2;
  assert.equal(load(resum(v2)), 'compiled zone: version 2, this appliance reads version 1');
  assert.equal(load(new TextEncoder().encode('$ORIGIN x.\n@ SOA a b 1 2 3 4 5\n')), 'compiled zone: not a Kiln zone (bad magic)');
});

test('random damage behind a valid checksum never traps', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let rejected = 0;
  for (let round = 0; round < 2000; round++) {
    const b = blob.slice();
    for (let k = 0; k <= rnd(4); k++) b[5 + rnd(b.length - 9)] = rnd(256);
    const r = load(resum(b)); // throws if the loader traps
    if (r !== null) {
      assert.match(r, /^compiled zone: /);
      rejected++;
    }
  }
  assert.ok(rejected > 0);
});
