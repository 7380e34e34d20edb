// A compiled Wasm appliance (kernel/compiler) linked onto the base boots, reaches the host calls
// through the runtime, reads its configuration, and its traps end the VM with the trap status
// (ABI.md section 3).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { compileWasm, linkImage } from '../../compiler/index.ts';
import { bootImage, ensureKernelBuilt, BASE_IMAGE } from './qemu-run.ts';

before(() => ensureKernelBuilt());

const IMPORTS = `
  (import "kiln" "console_write" (func $cw (param i32 i32) (result i32)))
  (import "kiln" "config_get" (func $config (param i32 i32) (result i32)))
  (import "kiln" "clock_monotonic" (func $mono (result i64)))
  (import "kiln" "yield" (func $yield (param i64) (result i64)))
  (import "kiln" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasm\\n")`;

async function makeImage(dir: string, wat: string, config = ''): Promise<string> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('app.wat', `(module ${IMPORTS} ${wat})`);
  const wasm = mod.toBinary({}).buffer;
  mod.destroy();
  const { blob } = compileWasm(new Uint8Array(wasm));
  const elf = linkImage({
    blob,
    baseElf: readFileSync(BASE_IMAGE),
    config: new TextEncoder().encode(config),
  });
  const file = join(dir, 'app.elf');
  writeFileSync(file, elf);
  return file;
}

async function run(wat: string, config = ''): Promise<Awaited<ReturnType<typeof bootImage>>> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-app-'));
  try {
    return await bootImage({ image: await makeImage(dir, wat, config) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('compiled appliance: console, yield, config, main result as exit status', async () => {
  const r = await run(
    `(func (export "main") (result i32)
       (local $n i32)
       (drop (call $cw (i32.const 16) (i32.const 16)))
       (drop (call $yield (i64.add (call $mono) (i64.const 20000000))))
       (local.set $n (call $config (i32.const 1024) (i32.const 256)))
       (drop (call $cw (i32.const 1024) (local.get $n)))
       (i32.const 5))`,
    '{"greeting":"hi"}',
  );
  assert.equal(r.exitStatus, 5, r.stdout);
  assert.match(r.stdout, /hello from wasm\n\{"greeting":"hi"\}kiln: exit 5\n/);
});

test('compiled appliance: exit(status) from deep inside', async () => {
  const r = await run(`(func (export "main") (result i32) (call $exit (i32.const 9)) (i32.const 1))`);
  assert.equal(r.exitStatus, 9, r.stdout);
});

test('compiled appliance: unreachable traps with status 64 + 1', async () => {
  const r = await run(`(func $f (unreachable)) (func (export "main") (result i32) (call $f) (i32.const 0))`);
  assert.match(r.stdout, /kiln: trap unreachable func \d+ offset 0x[0-9a-f]+\n/);
  assert.equal(r.exitStatus, 65, r.stdout);
});

test('compiled appliance: out-of-bounds memory access traps, never reaches the base', async () => {
  const r = await run(`(func (export "main") (result i32) (i32.load (i32.const 0x7ffffff0)))`);
  assert.ok(r.exitStatus === 64 + 2, `status ${r.exitStatus}: ${r.stdout}`);
});

test('compiled appliance: runaway recursion traps with stack exhausted', async () => {
  const r = await run(
    `(func $f (param i32) (result i32) (call $f (i32.add (local.get 0) (i32.const 1)))) (func (export "main") (result i32) (call $f (i32.const 0)))`,
  );
  assert.equal(r.exitStatus, 64 + 8, r.stdout);
});

test('compiled appliance: an empty-magic blob and a corrupt one are refused with status 94', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-app-'));
  try {
    const file = await makeImage(dir, `(func (export "main") (result i32) (i32.const 0))`);
    const elf = readFileSync(file);
    // corrupt the blob's magic: the blob starts at the last PT_LOAD's file offset
    const phoff = Number(elf.readBigUInt64LE(0x20));
    const phnum = elf.readUInt16LE(0x38);
    let blobOff = 0;
    for (let i = 0; i < phnum; i++)
      if (elf.readUInt32LE(phoff + i * 56) === 1) blobOff = Number(elf.readBigUInt64LE(phoff + i * 56 + 8));
    elf[blobOff] = 0x58;
    writeFileSync(file, elf);
    const r = await bootImage({ image: file });
    assert.equal(r.exitStatus, 94, r.stdout);
    assert.match(r.stdout, /kiln: panic: the appliance blob has no KILNAPP1 header/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compiled appliance: the stats channel counts linear memory in use, not the reserve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-app-'));
  try {
    const image = await makeImage(
      dir,
      `(func (export "main") (result i32) (drop (memory.grow (i32.const 16))) (i32.const 0))`,
    );
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(65536));
    const r = await bootImage({ image, disks: [disk], stats: true });
    assert.equal(r.exitStatus, 0, r.stdout);
    const mem = r.stats
      .trim()
      .split('\n')
      .map((l) => /mem=(\d+)\/(\d+)/.exec(l)!.slice(1).map(Number) as [number, number]);
    assert.ok(mem.length >= 2, r.stats);
    const [first, last] = [mem[0]!, mem.at(-1)!];
    assert.ok(first[0] < first[1] / 4, `in use ${first[0]} of ${first[1]}`);
    assert.ok(last[0] - first[0] >= 16 * 65536, `grew by ${last[0] - first[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
