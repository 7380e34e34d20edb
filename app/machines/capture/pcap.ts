// The classic pcap format (what QEMU's filter-dump writes and what tcpdump/Wireshark read):
// a 24-byte file header, then per frame a 16-byte record header and the captured bytes.
// The reader is incremental: it is fed whatever a FIFO read returned, in any split.

export interface PcapRecord {
  /** Capture time, microseconds since the Unix epoch. */
  timeUs: number;
  /** Bytes on the wire (the frame may have been cut to the snapshot length). */
  origLen: number;
  data: Buffer;
}

export const PCAP_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const LINKTYPE_ETHERNET = 1;
/** Larger than any frame QEMU can carry: a record announcing more is corrupt input. */
const MAX_RECORD = 256 * 1024;

/** The file header of a microsecond, Ethernet pcap, little-endian. */
export function pcapFileHeader(snaplen = 65535): Buffer {
  const h = Buffer.alloc(PCAP_HEADER_BYTES);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return h;
}

export function pcapRecord(r: PcapRecord): Buffer {
  const h = Buffer.alloc(RECORD_HEADER_BYTES);
  h.writeUInt32LE(Math.floor(r.timeUs / 1e6), 0);
  h.writeUInt32LE(r.timeUs % 1e6, 4);
  h.writeUInt32LE(r.data.length, 8);
  h.writeUInt32LE(r.origLen, 12);
  return Buffer.concat([h, r.data]);
}

export class PcapReader {
  private buf: Buffer = Buffer.alloc(0);
  private little: boolean | null = null;
  private nanos = false;

  /** Appends bytes; returns the whole records they completed. Throws on a corrupt stream. */
  push(chunk: Buffer): PcapRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: PcapRecord[] = [];
    let at = 0;
    if (this.little === null) {
      if (this.buf.length < PCAP_HEADER_BYTES) return out;
      const le = this.buf.readUInt32LE(0);
      const be = this.buf.readUInt32BE(0);
      if (le === 0xa1b2c3d4 || le === 0xa1b23c4d) this.little = true;
      else if (be === 0xa1b2c3d4 || be === 0xa1b23c4d) this.little = false;
      else throw new Error(`not a pcap stream (magic 0x${le.toString(16)})`);
      this.nanos = (this.little ? le : be) === 0xa1b23c4d;
      const link = this.little ? this.buf.readUInt32LE(20) : this.buf.readUInt32BE(20);
      if (link !== LINKTYPE_ETHERNET) throw new Error(`pcap link type ${link} is not Ethernet`);
      at = PCAP_HEADER_BYTES;
    }
    const u32 = (o: number) => (this.little ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o));
    while (this.buf.length - at >= RECORD_HEADER_BYTES) {
      const incl = u32(at + 8);
      if (incl > MAX_RECORD) throw new Error(`pcap record of ${incl} bytes: corrupt stream`);
      if (this.buf.length - at - RECORD_HEADER_BYTES < incl) break;
      const sub = u32(at + 4);
      out.push({
        timeUs: u32(at) * 1e6 + (this.nanos ? Math.floor(sub / 1000) : sub),
        origLen: u32(at + 12),
        data: Buffer.from(this.buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + incl)),
      });
      at += RECORD_HEADER_BYTES + incl;
    }
    this.buf = this.buf.subarray(at);
    return out;
  }
}
