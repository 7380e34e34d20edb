// Differential test of the front end against V8's validator (WebAssembly.validate), on every
// module of the spec suite and on many byte-level mutations of them (fixed seed, so a failure
// reproduces). Whenever we accept a module, V8 must accept it (or we would compile something
// unsafe); whenever we call it malformed or invalid, V8 must reject it (or we refuse good code).
// Our "unsupported" verdicts are not compared: V8 implements more proposals than we accept.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { getWabt, watToBinary } from '../spec/wat.ts';
import { parseWast } from '../spec/wast.ts';
import { skipImmediates } from './immediates.ts';
import { CodeReader, loadModule, WasmError, type WasmModule } from './index.ts';

const SUITE = resolve(import.meta.dirname, '../../../../shared/wasm-testsuite');
const v8 = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;

type Verdict = 'ok' | 'reject' | 'unsupported';

const isNum = (t: number): boolean => t >= 0x7c && t <= 0x7f;

/**
 * What the code generator may rely on in an accepted module, checked independently of the
 * validator: only numeric types, at most one funcref table, active MVP element segments, and
 * only opcodes of the accepted subset with numeric block types.
 */
function assertAcceptedSubset(m: WasmModule): void {
  for (const t of m.types) assert.ok([...t.params, ...t.results].every(isNum), 'non-numeric function type');
  assert.ok(
    m.globalSpace.every((g) => isNum(g.valType)),
    'non-numeric global',
  );
  assert.ok(m.tableSpace.length <= 1 && m.tableSpace.every((t) => t.elemType === 0x70), 'table');
  assert.ok(m.memorySpace.length <= 1, 'memories');
  for (const e of m.elements)
    assert.ok(e.mode === 'active' && e.table === 0 && e.funcIndices.every((f) => f !== null));
  const r = new CodeReader(m.bytes, 0, m.bytes.length);
  for (const body of m.codes) {
    assert.ok(
      body.locals.every((d) => isNum(d.type)),
      'non-numeric local',
    );
    r.pos = body.codeStart;
    while (r.pos < body.codeEnd) {
      const op = r.opcode();
      const allowed =
        op <= 0x05 ||
        (op >= 0x0b && op <= 0x11) ||
        (op >= 0x1a && op <= 0x1c) ||
        (op >= 0x20 && op <= 0x24) ||
        (op >= 0x28 && op <= 0xc4) ||
        (op >= 0xfc00 && op <= 0xfc0b);
      assert.ok(allowed, `opcode 0x${op.toString(16)} in an accepted module`);
      if (op >= 0x02 && op <= 0x04) {
        const bt = r.blockType(m.types);
        assert.ok([...bt.params, ...bt.results].every(isNum), 'non-numeric block type');
      } else if (op === 0x1c) {
        assert.equal(r.u32(), 1);
        assert.ok(isNum(r.u8()), 'non-numeric typed select');
      } else assert.ok(skipImmediates(r, op, m.types));
    }
  }
}

function ours(bytes: Uint8Array): Verdict {
  try {
    assertAcceptedSubset(loadModule(bytes).module);
    return 'ok';
  } catch (e) {
    if (!(e instanceof WasmError)) throw e;
    return e.kind === 'unsupported' ? 'unsupported' : 'reject';
  }
}

/** Every module of the suite as bytes (text ones through wabt), with where it came from. */
async function suiteModules(): Promise<{ where: string; bytes: Uint8Array }[]> {
  const wabt = await getWabt();
  const out: { where: string; bytes: Uint8Array }[] = [];
  for (const f of readdirSync(SUITE)
    .filter((x) => x.endsWith('.wast'))
    .sort()) {
    for (const c of parseWast(readFileSync(join(SUITE, f), 'utf8')).commands) {
      if (!('module' in c) || c.module.source.kind === 'quote') continue;
      try {
        const bytes =
          c.module.source.kind === 'binary' ? c.module.source.bytes : watToBinary(wabt, c.module.source.text);
        out.push({ where: `${f}:${c.line}`, bytes });
      } catch {
        // wabt cannot encode some invalid text modules; the spec runner reports those.
      }
    }
  }
  return out;
}

/** Small deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const b = Array.from(src);
  const edits = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < edits; k++) {
    const at = 8 + Math.floor(rand() * Math.max(1, b.length - 8));
    const kind = rand();
    const interesting = [
      0x00, 0x01, 0x0b, 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x80, 0xff, 0x1a, 0x41, 0x20, 0x6a, 0x10,
    ];
    const byte =
      rand() < 0.5 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
    if (kind < 0.6) b[at] = byte;
    else if (kind < 0.8) b.splice(at, 0, byte);
    else b.splice(at, 1);
  }
  return Uint8Array.from(b);
}

const tally = { ok: 0, reject: 0, unsupported: 0 };

function agree(bytes: Uint8Array, where: string): void {
  const v = ours(bytes);
  tally[v]++;
  if (v === 'unsupported') return;
  const theirs = v8.validate(bytes);
  if (v === 'ok' && !theirs)
    assert.fail(`${where}: we accept a module V8 rejects: ${Buffer.from(bytes).toString('hex')}`);
  if (v === 'reject' && theirs) {
    let why = '';
    try {
      loadModule(bytes);
    } catch (e) {
      why = String(e);
    }
    assert.fail(`${where}: we reject (${why}) a module V8 accepts: ${Buffer.from(bytes).toString('hex')}`);
  }
}

describe('front end agrees with V8', { skip: existsSync(SUITE) ? false : `no suite at ${SUITE}` }, () => {
  it('on every module of the spec suite and on 30000 mutations of them', async () => {
    const mods = await suiteModules();
    assert.ok(mods.length > 1000);
    for (const m of mods) agree(m.bytes, m.where);
    const rand = rng(0x6b696c6e);
    // Mutate modules we accept (the interesting neighbourhood), spread over the suite.
    const seeds = mods.filter((m) => ours(m.bytes) === 'ok' && m.bytes.length < 20000);
    for (let i = 0; i < 30000; i++) {
      const s = seeds[Math.floor(rand() * seeds.length)]!;
      agree(mutate(s.bytes, rand), `mutation ${i} of ${s.where}`);
    }
    // The mutations must reach both sides of the line, or this test would prove little.
    assert.ok(tally.ok > 3000 && tally.reject > 10000, JSON.stringify(tally));
  });
});
