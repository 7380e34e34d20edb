import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModule } from '../wasm/index.ts';
import type { DataSegment } from '../wasm/types.ts';
import { HEADER, body, funcType, section, sleb, str, uleb, vec } from '../wasm/test-builder.ts';
import { mergeDataSegments } from './data-merge.ts';

function activeSeg(offset: number, bytes: number[]): number[] {
  return [0x00, 0x41, ...sleb(offset), 0x0b, ...uleb(bytes.length), ...bytes];
}

/** One function with `code`, a memory (own or imported), optional data count, then the data. */
function moduleWith(
  segs: number[][],
  opts: { code?: number[]; importMemory?: boolean; dataCount?: boolean } = {},
) {
  const out = [...HEADER, ...section(1, vec([funcType([], [])]))];
  if (opts.importMemory) out.push(...section(2, vec([[...str('env'), ...str('mem'), 0x02, 0x00, 0x01]])));
  out.push(...section(3, vec([[0]])));
  if (!opts.importMemory) out.push(...section(5, vec([[0x00, 0x01]])));
  if (opts.dataCount) out.push(...section(12, uleb(segs.length)));
  out.push(...section(10, vec([body([], opts.code ?? [])])));
  out.push(...section(11, vec(segs)));
  return loadModule(Uint8Array.from(out)).module;
}

/** Memory after instantiation, applying the segments in order as the runtime does. */
function memoryAfter(segs: DataSegment[]): Uint8Array {
  const mem = new Uint8Array(65536);
  for (const d of segs) if (d.offset?.op === 'i32.const') mem.set(d.bytes, d.offset.value);
  return mem;
}

test('close segments merge into one with zero gaps; distant ones stay apart; memory is the same', () => {
  const m = moduleWith([
    activeSeg(16, [1, 2, 3]),
    activeSeg(32, [4, 5]),
    activeSeg(56, [6]),
    activeSeg(200, [7, 8]),
  ]);
  const merged = mergeDataSegments(m);
  assert.equal(merged.length, 2);
  assert.deepEqual(merged[0]!.offset, { op: 'i32.const', value: 16 });
  assert.equal(merged[0]!.bytes.length, 56 + 1 - 16);
  assert.deepEqual(merged[1]!.offset, { op: 'i32.const', value: 200 });
  assert.deepEqual(memoryAfter(merged), memoryAfter(m.data));
});

test('segments are kept as they are when merging could be observed', () => {
  const close = [activeSeg(16, [1]), activeSeg(20, [2])];
  const imported = moduleWith(close, { importMemory: true });
  assert.equal(mergeDataSegments(imported), imported.data, 'imported memory');
  const overlapping = moduleWith([activeSeg(16, [1, 2, 3, 4]), activeSeg(18, [9])]);
  assert.equal(mergeDataSegments(overlapping), overlapping.data, 'overlap (later wins)');
  const descending = moduleWith([activeSeg(20, [2]), activeSeg(16, [1])]);
  assert.equal(mergeDataSegments(descending), descending.data, 'descending');
  // data.drop 1: segment indices are visible to the code.
  const drops = moduleWith(close, { code: [0xfc, 0x09, 0x01], dataCount: true });
  assert.equal(mergeDataSegments(drops), drops.data, 'data.drop');
});
