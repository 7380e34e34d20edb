// Fuel: a step budget written into the module itself, so V8 and our native code stop a long run
// at exactly the same point. A new mutable i32 global (appended last, so no existing global
// index moves) starts at the budget; every function entry and every loop iteration decrements
// it, and executes `unreachable` once it is zero. Both engines then run the same instrumented
// module: a module that would run for minutes traps identically on both sides within the
// budget, and an engine that loops where the other does not is still a visible mismatch.
// A second global bounds the call depth the same way: how deep each engine can recurse before
// "call stack exhausted" is its own choice (V8's stack is ~1 MB, the harness's 64 MB), so deep
// recursion would differ for no fault of either. Each body is wrapped in a block (`return`
// becomes a branch to it) so the depth is decremented on every normal exit; a trap skips the
// decrement on both engines alike.

import { loadModule } from '../wasm/index.ts';
import { CodeReader, Op, funcTypeOf, type FuncType, type WasmModule } from '../wasm/types.ts';
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

/** Export name of the function that resets fuel and depth (the drivers call it, never list it). */
export const RESET_EXPORT = 'kiln-fuzz-reset';

/** Calls deeper than this trap (both engines manage far more; V8 at least ~10000 frames). */
export const MAX_DEPTH = 250;

/** `if (fuel == 0) unreachable; fuel -= 1` for global index g. */
function check(g: number): number[] {
  const gi = leb(g);
  return [0x23, ...gi, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x23, ...gi, 0x41, 0x01, 0x6b, 0x24, ...gi];
}

/** `if (depth == MAX) unreachable; depth += 1` for global index g. */
function enter(g: number): number[] {
  const gi = leb(g);
  return [
    0x23,
    ...gi,
    0x41,
    ...sleb(MAX_DEPTH),
    0x46,
    0x04,
    0x40,
    0x00,
    0x0b,
    0x23,
    ...gi,
    0x41,
    0x01,
    0x6a,
    0x24,
    ...gi,
  ];
}

/** `depth -= 1`. */
function leave(g: number): number[] {
  const gi = leb(g);
  return [0x23, ...gi, 0x41, 0x01, 0x6b, 0x24, ...gi];
}

const VALTYPE_BYTE: Record<number, number> = { 0x7f: 0x7f, 0x7e: 0x7e, 0x7d: 0x7d, 0x7c: 0x7c };

function section(id: number, payload: number[]): number[] {
  return [id, ...leb(payload.length), ...payload];
}

/** Returns the module with a fuel budget of `steps` function entries + loop iterations. */
export function addFuel(bytes: Uint8Array, steps: number): Uint8Array {
  const m = loadModule(bytes).module;
  const fuelGlobal = m.numImportedGlobals + m.globals.length;
  const depthGlobal = fuelGlobal + 1;
  const fuelCheck = check(fuelGlobal);
  const fuelEntry = [0x7f, 0x01, 0x41, ...sleb(steps | 0), 0x0b]; // mut i32 = steps
  const depthEntry = [0x7f, 0x01, 0x41, 0x00, 0x0b]; // mut i32 = 0
  // Block types for the body wrappers: multi-result functions need a type [] -> results,
  // appended to the type section when the module has none (no existing index moves).
  const newTypes: FuncType[] = [];
  const blockTypes = m.codes.map((_, j) => {
    const t = funcTypeOf(m, m.numImportedFuncs + j);
    if (t.results.length === 0) return [0x40];
    if (t.results.length === 1) return [VALTYPE_BYTE[t.results[0]!]!];
    const same = (u: FuncType): boolean =>
      u.params.length === 0 &&
      u.results.length === t.results.length &&
      u.results.every((r, k) => r === t.results[k]);
    let idx = m.types.findIndex(same);
    if (idx < 0) {
      idx = newTypes.findIndex(same);
      if (idx < 0) idx = newTypes.push({ params: [], results: t.results }) - 1;
      idx += m.types.length;
    }
    return sleb(idx);
  });
  // The reset function: fuel and depth back to their start, called by both engines' drivers
  // before each export (differential.ts, harness.c fuzz mode): each export gets the same budget,
  // and a trap that skipped depth decrements does not starve the exports after it.
  const emptyType = (u: FuncType): boolean => u.params.length === 0 && u.results.length === 0;
  let resetType = m.types.findIndex(emptyType);
  if (resetType < 0) resetType = m.types.length + newTypes.push({ params: [], results: [] }) - 1;
  const resetFunc = m.numImportedFuncs + m.functions.length;
  const resetBody = [
    0x00,
    0x41,
    ...sleb(steps | 0),
    0x24,
    ...leb(fuelGlobal),
    0x41,
    0x00,
    0x24,
    ...leb(depthGlobal),
    0x0b,
  ];

  // Sections by id (custom sections dropped: they do not affect execution), edited, then
  // written in the binary format's order.
  const sections = new Map<number, number[]>();
  let pos = 8;
  while (pos < bytes.length) {
    const r = new CodeReader(bytes, pos, bytes.length);
    const id = r.u8();
    const size = r.u32();
    if (id !== 0) sections.set(id, [...bytes.subarray(r.pos, r.pos + size)]);
    pos = r.pos + size;
  }
  const append = (id: number, entries: number[][]): void => {
    const old = sections.get(id);
    let n = 0;
    let rest: number[] = [];
    if (old) {
      const r = new CodeReader(new Uint8Array(old), 0, old.length);
      n = r.u32();
      rest = old.slice(r.pos);
    }
    sections.set(id, [...leb(n + entries.length), ...rest, ...entries.flat()]);
  };
  const code = instrumentCode(m, bytes, fuelCheck, enter(depthGlobal), leave(depthGlobal), blockTypes);
  append(
    1,
    newTypes.map((t) => [0x60, 0x00, ...leb(t.results.length), ...t.results]),
  );
  append(3, [leb(resetType)]);
  append(6, [fuelEntry, depthEntry]);
  const name = [...new TextEncoder().encode(RESET_EXPORT)];
  append(7, [[...leb(name.length), ...name, 0x00, ...leb(resetFunc)]]);
  sections.set(10, [...leb(m.codes.length + 1), ...code, ...leb(resetBody.length), ...resetBody]);
  const out: number[] = [...bytes.subarray(0, 8)];
  for (const id of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11]) {
    const payload = sections.get(id);
    if (payload) out.push(...section(id, payload));
  }
  return new Uint8Array(out);
}

function instrumentCode(
  m: WasmModule,
  bytes: Uint8Array,
  fuelCheck: number[],
  enterDepth: number[],
  leaveDepth: number[],
  blockTypes: number[][],
): number[] {
  const payload: number[] = [];
  m.codes.forEach((body, j) => {
    const sizeReader = new CodeReader(bytes, body.bodyStart, body.codeEnd);
    sizeReader.u32();
    // locals; checks; block <results> <body, its final end closing the block>; depth--; end
    const fn: number[] = [
      ...bytes.subarray(sizeReader.pos, body.codeStart),
      ...fuelCheck,
      ...enterDepth,
      0x02,
      ...blockTypes[j]!,
    ];
    const r = new CodeReader(bytes, body.codeStart, body.codeEnd);
    let copied = body.codeStart;
    let open = 0; // blocks open inside the wrapper
    while (!r.atEnd()) {
      const at = r.pos;
      const op = r.opcode();
      if (op === Op.loop) {
        r.blockType(m.types);
        fn.push(...bytes.subarray(copied, r.pos), ...fuelCheck);
        copied = r.pos;
        open++;
      } else if (op === Op.return) {
        fn.push(...bytes.subarray(copied, at), 0x0c, ...leb(open)); // br to the wrapper
        copied = r.pos;
      } else {
        if (!skipImmediates(r, op, m.types)) throw new Error(`fuel: unknown opcode 0x${op.toString(16)}`);
        if (op === Op.block || op === Op.if) open++;
        else if (op === Op.end) open--;
      }
    }
    fn.push(...bytes.subarray(copied, body.codeEnd), ...leaveDepth, 0x0b);
    payload.push(...leb(fn.length), ...fn);
  });
  return payload;
}
