// Tiny helpers for writing Wasm binaries by hand in tests: sections, vectors, LEB128.

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;

export function uleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

export function sleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && !(b & 0x40)) || (v === -1n && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export function str(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}

export function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

export const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function funcType(params: number[], results: number[]): number[] {
  return [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
}

/** A body: local declarations as [count, type] pairs, then code (the final `end` is added). */
export function body(locals: [number, number][], code: number[]): number[] {
  const content = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, 0x0b];
  return [...uleb(content.length), ...content];
}

export interface SimpleModule {
  types: number[][];
  /** Type index of each function. */
  funcs: number[];
  bodies: number[][];
  memory?: number[]; // limits bytes, e.g. [0, 1]
  extra?: number[][]; // more sections, inserted in order by the caller
}

/** Type, function, memory and code sections (plus `extra` before the code section). */
export function moduleBytes(m: SimpleModule): Uint8Array {
  const out = [...HEADER, ...section(1, vec(m.types)), ...section(3, vec(m.funcs.map((f) => uleb(f))))];
  if (m.memory) out.push(...section(5, vec([m.memory])));
  for (const s of m.extra ?? []) out.push(...s);
  out.push(...section(10, vec(m.bodies)));
  return Uint8Array.from(out);
}

/** One function of type [params] -> [results] with the given code. */
export function oneFunc(
  params: number[],
  results: number[],
  code: number[],
  locals: [number, number][] = [],
  memory?: number[],
): Uint8Array {
  return moduleBytes({
    types: [funcType(params, results)],
    funcs: [0],
    bodies: [body(locals, code)],
    memory,
  });
}
