// Decides whether a file is a kernel image Kiln can boot: an x86 ELF with a PVH entry note
// (Xen ELF note type 18, XEN_ELFNOTE_PHYS32_ENTRY) or a Multiboot header (v1 magic 0x1BADB002 in
// the first 8 KiB, v2 magic 0xE85250D6 in the first 32 KiB, with a valid checksum). The reason
// for a refusal is written for the user.

export type BootProtocol = 'pvh' | 'multiboot' | 'multiboot2';

export type Inspection =
  | {
      ok: true;
      protocols: BootProtocol[];
      elfClass: 32 | 64;
      machine: 'x86-64' | 'i386';
      entry: number;
      pvhEntry: number | null;
    }
  | { ok: false; reason: string };

const EM_386 = 3;
const EM_X86_64 = 62;
const MACHINE_NAMES: Record<number, string> = {
  2: 'SPARC',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC 64',
  22: 'S/390',
  40: 'ARM (32-bit)',
  43: 'SPARC v9',
  50: 'IA-64',
  183: 'AArch64 (ARM 64-bit)',
  243: 'RISC-V',
  258: 'LoongArch',
};
const PT_NOTE = 4;
const SHT_NOTE = 7;
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

interface Elf {
  cls: 32 | 64;
  le: boolean;
  dv: DataView;
  entry: number;
}

function u(e: Elf, off: number, size: 2 | 4 | 8): number {
  if (size === 2) return e.dv.getUint16(off, e.le);
  if (size === 4) return e.dv.getUint32(off, e.le);
  return Number(e.dv.getBigUint64(off, e.le));
}

/** Walks the notes in [off, off+len) and returns the PVH entry if one is there. */
function pvhEntryIn(e: Elf, off: number, len: number): number | null {
  const end = Math.min(off + len, e.dv.byteLength);
  let p = off;
  while (p + 12 <= end) {
    const namesz = u(e, p, 4);
    const descsz = u(e, p + 4, 4);
    const type = u(e, p + 8, 4);
    const nameOff = p + 12;
    const descOff = nameOff + ((namesz + 3) & ~3);
    if (descOff + descsz > end) return null;
    const name = new TextDecoder().decode(
      new Uint8Array(e.dv.buffer, e.dv.byteOffset + nameOff, Math.max(0, namesz - 1)),
    );
    if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY && descsz >= 4) {
      return descsz >= 8 ? u(e, descOff, 8) : u(e, descOff, 4);
    }
    p = descOff + ((descsz + 3) & ~3);
  }
  return null;
}

function findPvhEntry(e: Elf): number | null {
  const is64 = e.cls === 64;
  const phoff = is64 ? u(e, 32, 8) : u(e, 28, 4);
  const phentsize = u(e, is64 ? 54 : 42, 2);
  const phnum = u(e, is64 ? 56 : 44, 2);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > e.dv.byteLength) break;
    if (u(e, ph, 4) !== PT_NOTE) continue;
    const off = is64 ? u(e, ph + 8, 8) : u(e, ph + 4, 4);
    const size = is64 ? u(e, ph + 32, 8) : u(e, ph + 16, 4);
    const found = pvhEntryIn(e, off, size);
    if (found !== null) return found;
  }
  // Some linkers leave the note only in a section.
  const shoff = is64 ? u(e, 40, 8) : u(e, 32, 4);
  const shentsize = u(e, is64 ? 58 : 46, 2);
  const shnum = u(e, is64 ? 60 : 48, 2);
  for (let i = 0; i < shnum && shoff > 0; i++) {
    const sh = shoff + i * shentsize;
    if (sh + shentsize > e.dv.byteLength) break;
    if (u(e, sh + 4, 4) !== SHT_NOTE) continue;
    const off = is64 ? u(e, sh + 24, 8) : u(e, sh + 16, 4);
    const size = is64 ? u(e, sh + 32, 8) : u(e, sh + 20, 4);
    const found = pvhEntryIn(e, off, size);
    if (found !== null) return found;
  }
  return null;
}

function hasMultiboot1(dv: DataView): boolean {
  const limit = Math.min(8192, dv.byteLength) - 12;
  for (let p = 0; p <= limit; p += 4) {
    if (dv.getUint32(p, true) !== 0x1badb002) continue;
    const flags = dv.getUint32(p + 4, true);
    const checksum = dv.getUint32(p + 8, true);
    if ((0x1badb002 + flags + checksum) >>> 0 === 0) return true;
  }
  return false;
}

function hasMultiboot2(dv: DataView): boolean {
  const limit = Math.min(32768, dv.byteLength) - 16;
  for (let p = 0; p <= limit; p += 8) {
    if (dv.getUint32(p, true) !== 0xe85250d6) continue;
    const arch = dv.getUint32(p + 4, true);
    const length = dv.getUint32(p + 8, true);
    const checksum = dv.getUint32(p + 12, true);
    if ((0xe85250d6 + arch + length + checksum) >>> 0 === 0) return true;
  }
  return false;
}

export function inspectKernelImage(bytes: Uint8Array): Inspection {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return {
      ok: false,
      reason: 'Not an ELF file: a kernel image starts with the bytes 7F 45 4C 46 ("\\x7fELF").',
    };
  }
  const cls = bytes[4] === 2 ? 64 : bytes[4] === 1 ? 32 : null;
  if (cls === null) return { ok: false, reason: `Not a valid ELF file: unknown class ${bytes[4]}.` };
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const e: Elf = { cls, le, dv, entry: 0 };
  const machine = u(e, 18, 2);
  if (machine !== EM_X86_64 && machine !== EM_386) {
    const name = MACHINE_NAMES[machine] ?? `machine ${machine}`;
    return {
      ok: false,
      reason: `Wrong architecture: this ELF is for ${name}; Kiln runs x86-64 guests (x86-64 or i386 kernels).`,
    };
  }
  if (!le) return { ok: false, reason: 'Wrong byte order: an x86 kernel is little-endian.' };
  let pvhEntry: number | null;
  try {
    pvhEntry = findPvhEntry(e);
  } catch {
    return {
      ok: false,
      reason: 'Not a valid ELF file: its program or section headers point outside the file.',
    };
  }
  const protocols: BootProtocol[] = [];
  if (pvhEntry !== null) protocols.push('pvh');
  if (hasMultiboot1(dv)) protocols.push('multiboot');
  if (hasMultiboot2(dv)) protocols.push('multiboot2');
  if (protocols.length === 0) {
    return {
      ok: false,
      reason:
        'No PVH note and no Multiboot header: the hypervisor would not know where to enter this kernel. Build it with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) or a Multiboot header.',
    };
  }
  const entry = cls === 64 ? u(e, 24, 8) : u(e, 24, 4);
  return {
    ok: true,
    protocols,
    elfClass: cls,
    machine: machine === EM_X86_64 ? 'x86-64' : 'i386',
    entry,
    pvhEntry,
  };
}
