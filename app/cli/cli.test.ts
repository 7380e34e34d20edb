// The real `kiln` binary against a temporary KILN_HOME.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.ts';
import { tempHome } from '../testing/temp-home.ts';

const home = tempHome();
after(() => home.remove());
const bin = join(repoRoot(), 'bin', 'kiln.js');

function kiln(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, KILN_HOME: home.dir },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('kiln CLI', () => {
  it('creates, lists (as JSON), shows, renames and removes appliances', () => {
    assert.equal(kiln('new', 'hello', 'first', '--set', 'greeting=Hi there', '--set', 'repeat=3').code, 0);
    const ls = kiln('ls', '--json');
    assert.equal(ls.code, 0);
    const list = JSON.parse(ls.out) as { name: string; template: string; config: Record<string, unknown> }[];
    assert.deepEqual(
      list.map((a) => [a.name, a.template, a.config]),
      [['first', 'hello', { greeting: 'Hi there', repeat: 3 }]],
    );
    assert.match(kiln('show', 'first').out, /greeting = "Hi there"/);
    assert.equal(kiln('rename', 'first', 'second').code, 0);
    assert.equal(kiln('rm', 'second').code, 0);
    assert.deepEqual(JSON.parse(kiln('ls', '--json').out), []);
  });

  it('lists templates', () => {
    const t = JSON.parse(kiln('templates', '--json').out) as { name: string }[];
    assert.ok(t.some((x) => x.name === 'hello'));
  });

  it('fails with a message naming what to fix, exit 1', () => {
    kiln('new', 'hello', 'taken');
    const dup = kiln('new', 'hello', 'taken');
    assert.equal(dup.code, 1);
    assert.match(dup.err, /already exists/);
    const badSetting = kiln('new', 'hello', 'x1', '--set', 'repeat=lots');
    assert.equal(badSetting.code, 1);
    assert.match(badSetting.err, /"repeat" \(Times to print it\) must be a whole number/);
    const json = kiln('new', 'nope', 'x2', '--json');
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.out).error.field, 'template');
    const missing = kiln('rm', 'taken', 'ghost');
    assert.equal(missing.code, 1);
    assert.ok(kiln('ls', '--json').out.includes('"taken"'), 'a failed rm of several names removes none');
  });

  it('prints usage and exits 2 on unknown commands, bad flags and wrong arity', () => {
    for (const args of [
      ['frobnicate'],
      ['ls', '--bogus'],
      ['new', 'hello'],
      ['serve', '--port'],
      ['serve', '--port', 'x'],
      [],
    ]) {
      const r = kiln(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, /Usage: kiln/, args.join(' '));
    }
    assert.equal(kiln('--help').code, 0);
    assert.match(kiln('new', '--help').out, /--set key=value/);
  });

  it('compiles a Wasm appliance into a bootable PVH image', async () => {
    const wabt = await (await import('wabt')).default();
    const wat = `(module (import "kiln" "console_write" (func $w (param i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 16) "hi\\n")
      (func (export "main") (result i32) (drop (call $w (i32.const 16) (i32.const 3))) (i32.const 3)))`;
    const wasm = join(home.dir, 'app.wasm');
    const image = join(home.dir, 'app.elf');
    writeFileSync(wasm, wabt.parseWat('app.wat', wat).toBinary({}).buffer);
    const r = kiln('compile', wasm, '-o', image, '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(image).subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(kiln('compile', wasm).code, 2, 'no output named is a usage error');
    writeFileSync(wasm, 'not wasm');
    const bad = kiln('compile', wasm, '-o', image);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /magic/);
  });

  it('serves web mode: 401 without the token, 200 with it', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--json'], {
      env: { ...process.env, KILN_HOME: home.dir },
    });
    try {
      const line = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
      );
      const { url } = JSON.parse(line) as { url: string };
      const u = new URL(url);
      assert.equal(u.hostname, '127.0.0.1');
      const call = (headers: Record<string, string>) =>
        fetch(`${u.origin}/api/call`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ method: 'appliances.list', input: {} }),
        });
      assert.equal((await call({})).status, 401);
      const ok = await call({ authorization: `Bearer ${u.searchParams.get('token')}` });
      assert.equal(ok.status, 200);
      assert.ok(((await ok.json()) as { result: { name: string }[] }).result.some((a) => a.name === 'taken'));
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('exit', r));
      assert.equal(code, 0, 'serve stops cleanly on SIGTERM');
    }
  });
});
