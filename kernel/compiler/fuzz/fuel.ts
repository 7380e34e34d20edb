// Fuel: a step budget written into the module itself, so V8 and our native code stop a long run
// at exactly the same point. A new mutable i32 global (appended last, so no existing global
// index moves) starts at the budget; every function entry and every loop iteration decrements
// it, and executes `unreachable` once it is zero. Both engines then run the same instrumented
// module: a module that would run for minutes traps identically on both sides within the
// budget, and an engine that loops where the other does not is still a visible mismatch.

import { loadModule } from '../wasm/index.ts';
import { CodeReader, Op } from '../wasm/types.ts';
import { skipImmediates } from '../wasm/immediates.ts';

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** `if (fuel == 0) unreachable; fuel -= 1` for global index g. */
function check(g: number): number[] {
  const gi = leb(g);
  return [0x23, ...gi, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x23, ...gi, 0x41, 0x01, 0x6b, 0x24, ...gi];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...leb(payload.length), ...payload];
}

/** Returns the module with a fuel budget of `steps` function entries + loop iterations. */
export function addFuel(bytes: Uint8Array, steps: number): Uint8Array {
  const m = loadModule(bytes).module;
  const fuelGlobal = m.numImportedGlobals + m.globals.length;
  const fuelCheck = check(fuelGlobal);
  const fuelEntry = [0x7f, 0x01, 0x41, ...sleb(steps | 0), 0x0b]; // mut i32 = steps
  const out: number[] = [];
  let pos = 8;
  let globalsWritten = false;
  const writeGlobals = (existing: Uint8Array | null): void => {
    const payload = [...leb(m.globals.length + 1)];
    if (existing) {
      const r = new CodeReader(existing, 0, existing.length);
      r.u32(); // old count
      payload.push(...existing.subarray(r.pos));
    }
    payload.push(...fuelEntry);
    out.push(...section(6, payload));
    globalsWritten = true;
  };
  out.push(...bytes.subarray(0, 8));
  // Sections in the binary's order; the global section (6) sits after memory (5) and before
  // export (7); data count (12) also comes after it, code (10) and data (11) later still.
  const after = (id: number): boolean => id === 7 || id === 8 || id === 9 || id === 10 || id === 11 || id === 12;
  while (pos < bytes.length) {
    const r = new CodeReader(bytes, pos, bytes.length);
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (!globalsWritten && after(id)) writeGlobals(null);
    if (id === 6) writeGlobals(bytes.subarray(start, end));
    else if (id === 10) out.push(...section(10, instrumentCode(m, bytes, fuelCheck)));
    else out.push(...bytes.subarray(pos, end));
    pos = end;
  }
  if (!globalsWritten) writeGlobals(null);
  return new Uint8Array(out);
}

function instrumentCode(
  m: ReturnType<typeof loadModule>['module'],
  bytes: Uint8Array,
  fuelCheck: number[],
): number[] {
  const payload = [...leb(m.codes.length)];
  for (const body of m.codes) {
    const sizeReader = new CodeReader(bytes, body.bodyStart, body.codeEnd);
    sizeReader.u32();
    const fn: number[] = [...bytes.subarray(sizeReader.pos, body.codeStart), ...fuelCheck];
    const r = new CodeReader(bytes, body.codeStart, body.codeEnd);
    let copied = body.codeStart;
    while (!r.atEnd()) {
      const op = r.opcode();
      if (op === Op.loop) {
        r.blockType(m.types);
        fn.push(...bytes.subarray(copied, r.pos), ...fuelCheck);
        copied = r.pos;
      } else if (!skipImmediates(r, op, m.types)) {
        throw new Error(`fuel: unknown opcode 0x${op.toString(16)}`);
      }
    }
    fn.push(...bytes.subarray(copied, body.codeEnd));
    payload.push(...leb(fn.length), ...fn);
  }
  return payload;
}
