// Merges a module's active data segments that sit close together in memory into one, filling the
// gaps with zeros. asc emits one segment per static object (about 400 in the dns appliance), and
// each costs a 24-byte descriptor in the blob; merged, the same bytes reach the same addresses.
//
// Only when the result cannot be told apart from the original:
// - the memory is the module's own (with an imported memory, a trapping instantiation leaves the
//   segments before the failing one written, and another instance could see the difference);
// - every segment is active at an i32.const offset, in ascending order without overlap (so no
//   other segment writes into a gap we fill, and the merged one is in bounds iff its last part is);
// - no function body uses memory.init or data.drop, which name segments by index (a walk over
//   the validated bodies' instructions; anything it cannot step over keeps the segments).

import { skipImmediates } from '../wasm/immediates.ts';
import { CodeReader, Op, type DataSegment, type WasmModule } from '../wasm/types.ts';

/** Descriptor size in the blob (ABI.md section 5): a gap of up to this many zeros is cheaper. */
export const MAX_GAP = 24;

function usesSegmentIndices(m: WasmModule): boolean {
  const r = new CodeReader(m.bytes, 0, m.bytes.length);
  for (const c of m.codes) {
    r.pos = c.codeStart;
    while (r.pos < c.codeEnd) {
      const op = r.opcode();
      if (op === Op.memory_init || op === Op.data_drop) return true;
      if (!skipImmediates(r, op, m.types)) return true;
    }
  }
  return false;
}

export function mergeDataSegments(m: WasmModule): DataSegment[] {
  if (m.data.length < 2 || m.numImportedMemories > 0 || usesSegmentIndices(m)) return m.data;
  const spans: { start: number; bytes: Uint8Array }[] = [];
  let end = -1;
  for (const d of m.data) {
    if (d.mode !== 'active' || d.memory !== 0 || d.offset?.op !== 'i32.const') return m.data;
    const start = d.offset.value >>> 0;
    if (start < end) return m.data;
    end = start + d.bytes.length;
    spans.push({ start, bytes: d.bytes });
  }
  const out: DataSegment[] = [];
  let i = 0;
  while (i < spans.length) {
    const first = spans[i]!;
    let j = i + 1;
    let last = first.start + first.bytes.length;
    while (j < spans.length && spans[j]!.start - last <= MAX_GAP) {
      last = spans[j]!.start + spans[j]!.bytes.length;
      j++;
    }
    let bytes = first.bytes;
    if (j > i + 1) {
      bytes = new Uint8Array(last - first.start);
      for (let k = i; k < j; k++) bytes.set(spans[k]!.bytes, spans[k]!.start - first.start);
    }
    out.push({ mode: 'active', memory: 0, offset: { op: 'i32.const', value: first.start | 0 }, bytes });
    i = j;
  }
  return out;
}
