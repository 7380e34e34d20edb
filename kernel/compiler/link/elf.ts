// The image linker: kernel base ELF + appliance blob -> one PVH ELF (ABI.md section 5).
// The blob becomes one more PT_LOAD (in the base's spare PT_NULL program header) at the first
// page-aligned physical address above the base's highest segment, and the `.kiln_appliance`
// descriptor is filled by its file offset. Deterministic: same inputs, same bytes.

const PT_NULL = 0;
const PT_LOAD = 1;
const PF_R = 4,
  PF_W = 2,
  PF_X = 1;
const PAGE = 4096;
/** "KILNKLN1" little-endian (kernel/base/appliance.h). */
export const APPLIANCE_MAGIC = 0x314e4c4b4e4c494bn;

export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

const alignUp = (v: bigint, a: bigint): bigint => ((v + a - 1n) / a) * a;

interface Section {
  name: string;
  offset: number;
  size: number;
}

function sections(v: DataView, bytes: Uint8Array): Section[] {
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  if (shoff === 0 || shnum === 0 || shoff + shnum * shentsize > bytes.length)
    throw new LinkError('kernel base has no section headers');
  const strOff = Number(v.getBigUint64(shoff + shstrndx * shentsize + 0x18, true));
  const out: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const nameOff = strOff + v.getUint32(at, true);
    let end = nameOff;
    while (end < bytes.length && bytes[end] !== 0) end++;
    out.push({
      name: new TextDecoder().decode(bytes.subarray(nameOff, end)),
      offset: Number(v.getBigUint64(at + 0x18, true)),
      size: Number(v.getBigUint64(at + 0x20, true)),
    });
  }
  return out;
}

/**
 * `config` (the appliance's configuration JSON) is placed right after the blob, inside the same
 * PT_LOAD; its length goes in the descriptor's last field (the base reads it from there).
 */
export function linkElfImage(
  base: Uint8Array,
  blob: Uint8Array,
  config: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (base.length < 64 || base[0] !== 0x7f || base[1] !== 0x45 || base[2] !== 0x4c || base[3] !== 0x46)
    throw new LinkError('kernel base is not an ELF file');
  if (base[4] !== 2 || base[5] !== 1) throw new LinkError('kernel base is not a little-endian ELF64 file');
  const bv = new DataView(base.buffer, base.byteOffset, base.length);
  const phoff = Number(bv.getBigUint64(0x20, true));
  const phentsize = bv.getUint16(0x36, true);
  const phnum = bv.getUint16(0x38, true);
  let spare = -1;
  let top = 0n;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = bv.getUint32(at, true);
    if (type === PT_NULL && spare < 0) spare = i;
    if (type === PT_LOAD) {
      const end = bv.getBigUint64(at + 0x18, true) + bv.getBigUint64(at + 0x28, true); // paddr + memsz
      if (end > top) top = end;
    }
  }
  if (spare < 0) throw new LinkError('kernel base has no spare PT_NULL program header for the appliance');
  const desc = sections(bv, base).find((s) => s.name === '.kiln_appliance');
  if (!desc || desc.size < 32) throw new LinkError('kernel base has no .kiln_appliance section');

  const addr = alignUp(top, BigInt(PAGE));
  const fileOff = Math.ceil(base.length / PAGE) * PAGE;
  const loadSize = blob.length + config.length;
  const out = new Uint8Array(fileOff + loadSize);
  out.set(base);
  out.set(blob, fileOff);
  out.set(config, fileOff + blob.length);
  const v = new DataView(out.buffer);
  const ph = phoff + spare * phentsize;
  v.setUint32(ph, PT_LOAD, true);
  // Loaded writable and executable; the base seals it (code RX, the rest NX) before running it.
  v.setUint32(ph + 4, PF_R | PF_W | PF_X, true);
  v.setBigUint64(ph + 0x08, BigInt(fileOff), true);
  v.setBigUint64(ph + 0x10, addr, true);
  v.setBigUint64(ph + 0x18, addr, true);
  v.setBigUint64(ph + 0x20, BigInt(loadSize), true);
  v.setBigUint64(ph + 0x28, BigInt(loadSize), true);
  v.setBigUint64(ph + 0x30, BigInt(PAGE), true);
  v.setBigUint64(desc.offset, APPLIANCE_MAGIC, true);
  v.setBigUint64(desc.offset + 8, addr, true);
  v.setBigUint64(desc.offset + 16, BigInt(blob.length), true);
  v.setBigUint64(desc.offset + 24, BigInt(config.length), true);
  return out;
}
