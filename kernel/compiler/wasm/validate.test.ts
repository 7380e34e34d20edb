// Fast tests of the decoder and validator on hand-written binaries: LEB128 limits, section
// order, limits, block types, multi-value, unreachable code, refused features. Where a verdict
// is a plain accept/reject, V8 (WebAssembly.validate) must agree.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeModule, loadModule, WasmError } from './index.ts';
import { ByteReader } from './types.ts';
import {
  F32,
  F64,
  HEADER,
  I32,
  I64,
  body,
  funcType,
  moduleBytes,
  oneFunc,
  section,
  sleb,
  str,
  uleb,
  vec,
} from './test-builder.ts';

/** V8's validator (the project's TypeScript lib setting has no WebAssembly declarations). */
const v8 = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;

function verdict(bytes: Uint8Array): string {
  try {
    loadModule(bytes);
    return 'ok';
  } catch (e) {
    if (e instanceof WasmError) return `${e.kind}: ${e.reason}`;
    throw e;
  }
}

/** Our verdict, checked against V8 when ours is a plain accept or a spec-level reject. */
function judged(bytes: Uint8Array): string {
  const v = verdict(bytes);
  if (v === 'ok') assert.equal(v8.validate(bytes), true, 'V8 rejects a module we accept');
  else if (!v.startsWith('unsupported'))
    assert.equal(v8.validate(bytes), false, `V8 accepts a module we call ${v}`);
  return v;
}

const reader = (bytes: number[]): ByteReader => new ByteReader(Uint8Array.from(bytes), 0, bytes.length);
const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof WasmError) return e.reason;
    throw e;
  }
  return 'no error';
};

describe('LEB128', () => {
  it('reads u32 up to 2^32-1 in five bytes and refuses more', () => {
    assert.equal(reader([0xff, 0xff, 0xff, 0xff, 0x0f]).u32(), 0xffffffff);
    assert.equal(reader([0x80, 0x80, 0x80, 0x80, 0x00]).u32(), 0); // padded zero is fine
    assert.equal(
      failure(() => reader([0xff, 0xff, 0xff, 0xff, 0x1f]).u32()),
      'integer too large',
    );
    assert.equal(
      failure(() => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).u32()),
      'integer representation too long',
    );
    assert.match(
      failure(() => reader([0x80, 0x80]).u32()),
      /^unexpected end/,
    );
  });

  it('reads s32 at both extremes and checks the unused sign bits', () => {
    assert.equal(reader(sleb(-2147483648)).s32(), -2147483648);
    assert.equal(reader(sleb(2147483647)).s32(), 2147483647);
    assert.equal(reader([0x7f]).s32(), -1);
    assert.equal(reader([0x40]).s32(), -64);
    assert.equal(reader([0xff, 0xff, 0xff, 0xff, 0x7f]).s32(), -1);
    assert.equal(
      failure(() => reader([0xff, 0xff, 0xff, 0xff, 0x4f]).s32()),
      'integer too large',
    );
    assert.equal(
      failure(() => reader([0x80, 0x80, 0x80, 0x80, 0x70]).s32()),
      'integer too large',
    );
  });

  it('reads s64 at both extremes and checks the last byte', () => {
    for (const v of [0n, -1n, 63n, -64n, 64n, 1n << 40n, -(1n << 63n), (1n << 63n) - 1n, 123456789012345n]) {
      assert.equal(reader(sleb(v)).s64(), v, `value ${v}`);
    }
    const padMinus1 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert.equal(reader(padMinus1).s64(), -1n);
    assert.equal(
      failure(() => reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x41]).s64()),
      'integer too large',
    );
    assert.equal(
      failure(() => reader([...Array(10).fill(0x80), 0x00]).s64()),
      'integer representation too long',
    );
    // skipS64 (used by the validator) must agree with s64 on every case
    const cases = [
      padMinus1,
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x41],
      [...Array(10).fill(0x80), 0x00],
      [0x80, 0x80],
      sleb(-(1n << 63n)),
      sleb((1n << 63n) - 1n),
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ];
    for (const c of cases) {
      const r1 = reader(c);
      const r2 = reader(c);
      assert.equal(
        failure(() => r1.skipS64()),
        failure(() => r2.s64()),
        `bytes ${c}`,
      );
      assert.equal(r1.pos, r2.pos);
    }
  });

  it('reads s33 block type indices', () => {
    assert.equal(reader([0xff, 0xff, 0xff, 0xff, 0x0f]).s33(), 0xffffffff);
    assert.equal(reader([0x80, 0x80, 0x80, 0x80, 0x70]).s33(), -(2 ** 32));
    assert.equal(
      failure(() => reader([0x80, 0x80, 0x80, 0x80, 0x10]).s33()),
      'integer too large',
    );
    assert.equal(reader([0x40]).s33(), -64);
  });
});

describe('module structure', () => {
  it('accepts the empty module and rejects a bad header', () => {
    assert.equal(judged(Uint8Array.from(HEADER)), 'ok');
    assert.equal(
      judged(Uint8Array.from([0, 0x61, 0x73, 0x6e, 1, 0, 0, 0])),
      'malformed: magic header not detected',
    );
    assert.equal(
      judged(Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])),
      'malformed: unknown binary version',
    );
  });

  it('requires sections in order, each at most once; custom sections go anywhere', () => {
    const types = section(1, vec([funcType([], [])]));
    const custom = section(0, str('x'));
    assert.equal(judged(Uint8Array.from([...HEADER, ...custom, ...types, ...custom])), 'ok');
    assert.equal(
      judged(Uint8Array.from([...HEADER, ...types, ...types])),
      'malformed: unexpected content after last section',
    );
    const dataCount = section(12, [0]);
    const code = section(10, vec([]));
    assert.equal(judged(Uint8Array.from([...HEADER, ...dataCount, ...code])), 'ok');
    assert.equal(
      judged(Uint8Array.from([...HEADER, ...code, ...dataCount])),
      'malformed: unexpected content after last section',
    );
  });

  it('checks section sizes and counts', () => {
    const bad = [...HEADER, 1, 5, ...vec([funcType([], [])])]; // declared 5, content 4
    assert.equal(judged(Uint8Array.from([...bad, 0])), 'malformed: section size mismatch');
    assert.equal(
      judged(moduleBytes({ types: [funcType([], [])], funcs: [0, 0], bodies: [body([], [])] })),
      'malformed: function and code section have inconsistent lengths',
    );
  });

  it('checks memory limits', () => {
    const mem = (limits: number[]): Uint8Array => Uint8Array.from([...HEADER, ...section(5, vec([limits]))]);
    assert.equal(judged(mem([1, 2, 1])), 'invalid: size minimum must not be greater than maximum');
    assert.equal(judged(mem([0, ...uleb(65537)])), 'invalid: memory size must be at most 65536 pages (4GiB)');
    assert.equal(judged(mem([1, 0, ...uleb(65536)])), 'ok');
    assert.equal(verdict(mem([2, 1])), 'malformed: integer too large'); // shared memory (threads)
    assert.equal(
      judged(
        Uint8Array.from([
          ...HEADER,
          ...section(
            5,
            vec([
              [0, 1],
              [0, 1],
            ]),
          ),
        ]),
      ),
      'invalid: multiple memories',
    );
  });

  it('decodes index spaces and function names', () => {
    const imports = section(
      2,
      vec([
        [...str('m'), ...str('f'), 0, 0],
        [...str('m'), ...str('g'), 3, I32, 0],
      ]),
    );
    const names = section(0, [...str('name'), 1, ...uleb(7), ...vec([[...uleb(1), ...str('main')]])]);
    const bytes = Uint8Array.from([
      ...HEADER,
      ...section(1, vec([funcType([], [])])),
      ...imports,
      ...section(3, vec([[0]])),
      ...section(10, vec([body([], [])])),
      ...names,
    ]);
    const m = decodeModule(bytes);
    assert.equal(m.numImportedFuncs, 1);
    assert.equal(m.numImportedGlobals, 1);
    assert.deepEqual(m.funcTypeIndices, [0, 0]);
    assert.equal(m.funcNames.get(1), 'main');
    assert.equal(verdict(bytes), 'ok');
  });

  it('rejects names that are not UTF-8', () => {
    const imports = section(2, vec([[1, 0xc0, ...str('f'), 0, 0]]));
    assert.equal(
      judged(Uint8Array.from([...HEADER, ...section(1, vec([funcType([], [])])), ...imports])),
      'malformed: malformed UTF-8 encoding',
    );
  });

  it('limits constant expressions to constants and imported immutable globals', () => {
    const glob = (init: number[]): Uint8Array =>
      Uint8Array.from([...HEADER, ...section(6, vec([[I32, 0, ...init, 0x0b]]))]);
    assert.equal(judged(glob([0x41, 5])), 'ok');
    assert.equal(judged(glob([0x41, 5, 0x41, 6, 0x6a])), 'invalid: constant expression required');
    assert.equal(judged(glob([])), 'invalid: type mismatch');
    assert.equal(judged(glob([0x42, 5])), 'invalid: type mismatch');
    assert.equal(judged(glob([0x23, 0])), 'invalid: unknown global 0');
  });
});

describe('truncated modules', () => {
  it('rejects every proper prefix of a module as malformed, never with another error', () => {
    const types = [funcType([I32], [I32]), funcType([], [])];
    const imports = section(2, vec([[...str('env'), ...str('f'), 0, 1]]));
    const globals = section(6, vec([[I64, 1, 0x42, ...sleb(-5n), 0x0b]]));
    const exports = section(7, vec([[...str('main'), 0, 1]]));
    const data = section(11, vec([[0, 0x41, 8, 0x0b, ...vec([[1], [2], [3]])]]));
    const full = Uint8Array.from([
      ...HEADER,
      ...section(1, vec(types)),
      ...imports,
      ...section(3, vec([[0]])),
      ...section(5, vec([[0, 1]])),
      ...globals,
      ...exports,
      ...section(10, vec([body([[2, I64]], [0x20, 0, 0x04, I32, 0x41, 1, 0x05, 0x41, 2, 0x0b])])),
      ...data,
      ...section(0, str('trailing custom')),
    ]);
    assert.equal(judged(full), 'ok');
    // A prefix ending exactly at a section boundary is a complete (valid or invalid) module.
    const boundaries = new Set<number>([8]);
    for (let p = 8; p < full.length;) {
      const r = new ByteReader(full, p + 1, full.length);
      const size = r.u32();
      p = r.pos + size;
      boundaries.add(p);
    }
    for (let n = 0; n < full.length; n++) {
      if (boundaries.has(n)) continue;
      const v = verdict(full.subarray(0, n));
      assert.match(v, /^malformed: /, `prefix of ${n} bytes: ${v}`);
      assert.equal(v8.validate(full.subarray(0, n)), false);
    }
  });
});

describe('function bodies', () => {
  it('types numeric code and reports the spec reasons', () => {
    assert.equal(judged(oneFunc([I32, I32], [I32], [0x20, 0, 0x20, 1, 0x6a])), 'ok');
    assert.equal(judged(oneFunc([I32, I64], [I32], [0x20, 0, 0x20, 1, 0x6a])), 'invalid: type mismatch');
    assert.equal(judged(oneFunc([], [I32], [0x20, 0])), 'invalid: unknown local 0');
    assert.equal(judged(oneFunc([], [], [0x0c, 1])), 'invalid: unknown label 1');
    assert.equal(judged(oneFunc([], [], [0x41, 0])), 'invalid: type mismatch'); // value left over
    assert.equal(judged(oneFunc([], [F64], [0x44, ...Array(8).fill(0)])), 'ok');
    assert.equal(judged(oneFunc([F32], [I32], [0x20, 0, 0xfc, 0x00])), 'ok'); // i32.trunc_sat_f32_s
    assert.equal(judged(oneFunc([I64], [I64], [0x20, 0, 0xc4])), 'ok'); // i64.extend32_s
  });

  it('checks memory instructions: memory present, alignment, reserved bytes', () => {
    const load = [0x41, 0, 0x28, 2, 0]; // i32.load align=4
    assert.equal(judged(oneFunc([], [I32], load, [], [0, 1])), 'ok');
    assert.equal(judged(oneFunc([], [I32], load)), 'invalid: unknown memory 0');
    assert.equal(
      judged(oneFunc([], [I32], [0x41, 0, 0x28, 3, 0], [], [0, 1])),
      'invalid: alignment must not be larger than natural',
    );
    assert.equal(judged(oneFunc([], [I32], [0x3f, 1], [], [0, 1])), 'malformed: zero byte expected');
    const fill = [0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0b, 0];
    assert.equal(judged(oneFunc([], [], fill, [], [0, 1])), 'ok');
    assert.equal(
      judged(oneFunc([], [], [0xfc, 0x09, 0], [], [0, 1])),
      'malformed: data count section required',
    );
  });

  it('supports multi-value functions and blocks with parameters', () => {
    // (func (result i32 i64) i32.const 1 i64.const 2)
    assert.equal(judged(oneFunc([], [I32, I64], [0x41, 1, 0x42, 2])), 'ok');
    // type 1 = [i32 i32] -> [i32]; block (type 1) i32.add end
    const types = [funcType([], [I32]), funcType([I32, I32], [I32])];
    const blockCode = [0x41, 1, 0x41, 2, 0x02, 1, 0x6a, 0x0b];
    assert.equal(judged(moduleBytes({ types, funcs: [0], bodies: [body([], blockCode)] })), 'ok');
    // loop (type 1): a branch to a loop carries its parameters
    const loopCode = [0x41, 1, 0x41, 2, 0x03, 1, 0x0c, 0, 0x0b];
    assert.equal(judged(moduleBytes({ types, funcs: [0], bodies: [body([], loopCode)] })), 'ok');
    // if without else must have equal parameter and result types
    const types2 = [funcType([], [I32]), funcType([I32], [I64])];
    const ifCode = [0x41, 1, 0x41, 1, 0x04, 1, 0x1a, 0x42, 0, 0x0b, 0x1a, 0x41, 0];
    assert.equal(
      judged(moduleBytes({ types: types2, funcs: [0], bodies: [body([], ifCode)] })),
      'invalid: type mismatch',
    );
    assert.equal(
      judged(moduleBytes({ types, funcs: [0], bodies: [body([], [0x02, 9, 0x0b, 0x41, 0])] })),
      'invalid: unknown type 9',
    );
  });

  it('types unreachable code with the polymorphic stack', () => {
    assert.equal(judged(oneFunc([], [I32], [0x00, 0x6a])), 'ok'); // unreachable; i32.add
    assert.equal(judged(oneFunc([], [I32], [0x00, 0x42, 0, 0x6a])), 'invalid: type mismatch');
    assert.equal(judged(oneFunc([], [], [0x00, 0x1b, 0x1a])), 'ok'); // select of unknowns
    assert.equal(judged(oneFunc([], [I32], [0x41, 0, 0x0f, 0x1b])), 'ok'); // return; select
    assert.equal(judged(oneFunc([], [I32], [0x0f])), 'invalid: type mismatch'); // return needs its value
    // br_table after unreachable: labels of different types but equal arity are fine
    const code = [0x02, F32, 0x02, I32, 0x00, 0x0e, 1, 0, 1, 0x0b, 0x1a, 0x43, 0, 0, 0, 0, 0x0b, 0x1a];
    assert.equal(judged(oneFunc([], [], code)), 'ok');
    // ...but not of different arities
    const code2 = [0x02, 0x40, 0x02, I32, 0x00, 0x0e, 1, 0, 1, 0x0b, 0x1a, 0x0b];
    assert.equal(judged(oneFunc([], [], code2)), 'invalid: type mismatch');
  });

  it('accepts typed select of one numeric type only', () => {
    const sel = (types: number[]): Uint8Array =>
      oneFunc([], [I32], [0x41, 1, 0x41, 2, 0x41, 0, 0x1c, ...vec(types.map((t) => [t]))]);
    assert.equal(judged(sel([I32])), 'ok');
    assert.equal(judged(sel([])), 'invalid: invalid result arity');
    assert.equal(judged(sel([I32, I32])), 'invalid: invalid result arity');
  });

  it('reports a malformed body after an invalid one as malformed', () => {
    const types = [funcType([], [])];
    const bytes = moduleBytes({ types, funcs: [0, 0], bodies: [body([], [0x41, 0]), body([], [0xff])] });
    assert.equal(judged(bytes), 'malformed: illegal opcode');
  });

  it('refuses other proposals, naming the feature and the function', () => {
    const refused = (code: number[], feature: RegExp): void => {
      try {
        loadModule(oneFunc([], [], code));
        assert.fail('accepted');
      } catch (e) {
        assert.ok(e instanceof WasmError);
        assert.equal(e.kind, 'unsupported');
        assert.match(e.reason, feature);
        assert.match(e.message, /function 0/);
      }
    };
    refused([0x02, 0x7b, 0x00, 0x0b, 0x1a], /^SIMD \(v128 block result\)/);
    refused([0x02, 0x6f, 0x00, 0x0b, 0x1a], /^reference types/);
    refused([0xfd, 0x0c, ...Array(16).fill(0), 0x1a], /^SIMD/);
    refused([0xd0, 0x70, 0x1a], /^reference types \(ref\.null\)/);
    refused([0x12, 0], /^tail calls/);
    refused([0x06, 0x40, 0x0b], /^exception handling/);
    refused([0x41, 0, 0xfe, 0x00, 2, 0, 0x1a], /^threads/);
    refused([0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0e, 0, 0], /^bulk table operations \(table\.copy\)/);
    assert.match(verdict(oneFunc([], [], [], [[1, 0x6f]])), /^unsupported: reference types/);
  });

  it('has an implementation limit on locals, refused rather than mis-compiled', () => {
    assert.equal(verdict(oneFunc([], [], [], [[50000, I32]])), 'ok');
    assert.match(verdict(oneFunc([], [], [], [[50001, I32]])), /^unsupported: more than 50000 locals/);
    assert.equal(
      judged(
        oneFunc(
          [],
          [],
          [],
          [
            [0xffffffff, I32],
            [2, I32],
          ],
        ),
      ),
      'malformed: too many locals',
    );
  });
});

describe('AssemblyScript output', () => {
  it('validates a real AssemblyScript module compiled with -O3', async () => {
    const { default: asc } = await import('assemblyscript/asc');
    const src = `
      export function fib(n: i32): i64 { let a: i64 = 0, b: i64 = 1; for (let i = 0; i < n; i++) { const t = a + b; a = b; b = t; } return a; }
      export function sum(xs: Array<f64>): f64 { let s = 0.0; for (let i = 0; i < xs.length; i++) s += xs[i]; return s; }
      export function greet(name: string): string { return "hello " + name; }
    `;
    const out = await asc.compileString(src, { optimizeLevel: 3, runtime: 'incremental' });
    assert.ok(out.binary, out.stderr.toString());
    const m = loadModule(out.binary);
    assert.ok(m.module.codes.length > 5);
    assert.equal(v8.validate(out.binary), true);
  });
});

void F32;
void I64;
