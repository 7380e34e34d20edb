// The whole toolchain on real appliances: AssemblyScript (asc) -> `kiln compile` -> kernel base
// image -> boots under QEMU (KVM when usable, else TCG), prints, and exits with its status; one
// that traps prints the trap and exits with 64 + the trap code (ABI.md section 3).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';
import wabtInit from 'wabt';
import { runCompileCommand } from '../cli.ts';
import { compileWasm, linkImage, LinkError } from '../index.ts';
import { BASE_IMAGE, bootImage, ensureKernelBuilt } from '../../base/test/qemu-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-image-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function ascCompile(source: string): Promise<Uint8Array> {
  const r = await asc.compileString(source, { optimizeLevel: 3, runtime: 'stub' });
  if (!r.binary) throw new Error(`asc failed: ${r.stderr.toString()}`);
  return r.binary;
}

// No allocation, so asc emits no start function.
const HELLO = `
@external("kiln", "console_write") declare function console_write(ptr: usize, len: i32): i32;
export function main(): i32 {
  const text = "hello from a compiled appliance\\n";
  const buf = memory.data(64);
  for (let i = 0; i < text.length; i++) store<u8>(buf + i, <u8>text.charCodeAt(i));
  console_write(buf, text.length);
  return 7;
}`;

const TRAPS = `
export function main(): i32 {
  const p: usize = 0xfffffff0;
  return load<i32>(p);
}`;

// Allocates at top level (asc emits a start function), and the start function itself calls an
// import: instantiation must run on the appliance stack, with the instance already bound.
const START_ALLOCATES = `
@external("kiln", "console_write") declare function console_write(ptr: usize, len: i32): i32;
function say(s: string): void {
  const b = String.UTF8.encode(s);
  console_write(changetype<usize>(b), b.byteLength);
}
const parts = new Array<string>();
parts.push("started");
say(parts.join(",") + " in start\\n");
export function main(): i32 {
  parts.push("main");
  say(parts.join(",") + "\\n");
  return 5;
}`;

// Built with wabt (fast): asc would give the same import section.
const UNKNOWN_IMPORT = `(module
  (import "kiln" "teleport" (func $teleport (param i32) (result i32)))
  (import "kiln" "console_write" (func $w (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (call $teleport (i32.const 1))))`;

let helloWasm: Uint8Array;

before(async () => {
  ensureKernelBuilt();
  helloWasm = await ascCompile(HELLO);
});

test('kiln compile links an AssemblyScript appliance that boots and prints', async () => {
  const wasmPath = join(dir, 'hello.wasm');
  const imagePath = join(dir, 'hello.elf');
  writeFileSync(wasmPath, helloWasm);
  const logs: string[] = [];
  const rc = await runCompileCommand([wasmPath, '-o', imagePath, '--base', BASE_IMAGE], {
    log: (s) => logs.push(s),
    error: (s) => logs.push(`E ${s}`),
  });
  assert.equal(rc, 0, logs.join('\n'));
  assert.ok(
    logs.some((l) => l.startsWith('codegen:')),
    'progress by stage',
  );
  assert.match(logs.at(-1)!, /code .* data .* metadata/, 'sizes of each part');
  const r = await bootImage({ image: imagePath, timeoutMs: 60000 });
  assert.match(r.stdout, /hello from a compiled appliance/);
  assert.equal(r.exitStatus, 7, r.stdout);
});

test('an appliance that traps prints the trap and exits with 64 + code', async () => {
  const { blob } = compileWasm(await ascCompile(TRAPS));
  const imagePath = join(dir, 'trap.elf');
  writeFileSync(imagePath, linkImage({ blob, baseElf: new Uint8Array(readFileSync(BASE_IMAGE)) }));
  const r = await bootImage({ image: imagePath, timeoutMs: 60000 });
  assert.match(r.stdout, /kiln: trap out of bounds memory access func \d+ offset 0x[0-9a-f]+/);
  assert.equal(r.exitStatus, 64 + 2, r.stdout);
});

test('a start function that allocates and calls imports runs before main', async () => {
  const { blob } = compileWasm(await ascCompile(START_ALLOCATES));
  const imagePath = join(dir, 'start.elf');
  writeFileSync(imagePath, linkImage({ blob, baseElf: new Uint8Array(readFileSync(BASE_IMAGE)) }));
  const r = await bootImage({ image: imagePath, timeoutMs: 60000 });
  assert.match(r.stdout, /started in start\n[^]*started,main\n/, r.stdout);
  assert.equal(r.exitStatus, 5, r.stdout);
});

test('linking is deterministic', () => {
  const base = new Uint8Array(readFileSync(BASE_IMAGE));
  const a = linkImage({ blob: compileWasm(helloWasm).blob, baseElf: base });
  const b = linkImage({ blob: compileWasm(helloWasm).blob, baseElf: base });
  assert.deepEqual(a, b);
});

test('an import the kernel base lacks is a link error that names it', async () => {
  const wabt = await wabtInit();
  const m = wabt.parseWat('unknown.wat', UNKNOWN_IMPORT);
  const { blob } = compileWasm(new Uint8Array(m.toBinary({}).buffer));
  m.destroy();
  assert.throws(
    () => linkImage({ blob, baseElf: new Uint8Array(readFileSync(BASE_IMAGE)) }),
    (e: unknown) => e instanceof LinkError && /kiln\.teleport/.test(e.message),
  );
});
