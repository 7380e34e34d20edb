// The text format has no data count section: the reference interpreter validates text modules
// without one, but a binary module using memory.init/data.drop must have it. wabt does not emit
// the section when a module has no data segments, so for modules that come from TEXT the runner
// adds it (count = the number of data segments), as a binary encoder of that text must.

import { ByteReader } from '../wasm/types.ts';

export function addDataCountSection(bytes: Uint8Array): Uint8Array {
  const r = new ByteReader(bytes, 8, bytes.length);
  let insertAt = bytes.length;
  let dataCount = 0;
  while (!r.atEnd()) {
    const at = r.pos;
    const id = r.u8();
    const size = r.u32();
    if (id === 12) return bytes; // already there
    if ((id === 10 || id === 11) && insertAt === bytes.length) insertAt = at;
    if (id === 11) {
      const body = new ByteReader(bytes, r.pos, r.pos + size);
      dataCount = body.u32();
    }
    r.pos += size;
  }
  const count = leb(dataCount);
  const section = Uint8Array.from([12, ...leb(count.length), ...count]);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes.subarray(0, insertAt), 0);
  out.set(section, insertAt);
  out.set(bytes.subarray(insertAt), insertAt + section.length);
  return out;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
