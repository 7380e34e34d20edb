// On-demand packet capture of one NIC through QEMU's filter-dump (never always-on: see
// ../README.md). QEMU opens the dump file with a blocking open and writes it with blocking
// writes, so the FIFO is opened here first, read-write and non-blocking (a reader always exists,
// and there is never an end-of-file while QEMU has not opened it yet), and drained continuously
// by the event loop. Consumers are called synchronously per frame and must never block: each one
// bounds its own queue and counts what it drops, so a slow viewer costs frames, never the VM.
import { execFileSync } from 'node:child_process';
import { constants, mkdirSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { summarize, type PacketSummary } from './decode.ts';
import { PcapReader, type PcapRecord } from './pcap.ts';

/** What a VM offers for capture (QEMU: QMP object-add / object-del of a filter-dump). */
export interface PacketDumpTarget {
  addPacketDump(nic: number, file: string): Promise<string>;
  removePacketDump(id: string): Promise<void>;
}

export interface CaptureConsumer {
  onPacket(record: PcapRecord, summary: PacketSummary): void;
  /** The capture ended (last consumer gone, VM exited, error); called once. */
  onEnd(reason: string): void;
}

export interface CaptureCounters {
  frames: number;
  bytes: number;
}

export class CaptureSession {
  private consumers = new Set<CaptureConsumer>();
  private closed = false;
  readonly counters: CaptureCounters = { frames: 0, bytes: 0 };

  private constructor(
    private readonly target: PacketDumpTarget,
    private readonly dir: string,
    private readonly sock: Socket,
    private readonly filterId: string,
    private readonly onClosed: () => void,
  ) {}

  /** Creates the FIFO, starts draining it, then adds the filter. */
  static async open(opts: {
    target: PacketDumpTarget;
    nic: number;
    dir: string;
    guestMac: string;
    onClosed: () => void;
  }): Promise<CaptureSession> {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const fifo = join(opts.dir, `nic${opts.nic}.pcap`);
    rmSync(fifo, { force: true });
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const sock = new Socket({ fd, readable: true, writable: false });
    const reader = new PcapReader();
    let session: CaptureSession | null = null;
    const early: Buffer[] = [];
    sock.on('data', (chunk: Buffer) => {
      if (session) session.feed(reader, chunk, opts.guestMac);
      else early.push(chunk);
    });
    sock.on('error', () => session?.close('the capture FIFO failed'));
    let filterId: string;
    try {
      filterId = await opts.target.addPacketDump(opts.nic, fifo);
    } catch (err) {
      sock.destroy();
      rmSync(opts.dir, { recursive: true, force: true });
      throw err;
    }
    session = new CaptureSession(opts.target, opts.dir, sock, filterId, opts.onClosed);
    for (const c of early) session.feed(reader, c, opts.guestMac);
    return session;
  }

  private feed(reader: PcapReader, chunk: Buffer, guestMac: string): void {
    let records: PcapRecord[];
    try {
      records = reader.push(chunk);
    } catch (err) {
      this.close(`capture stream unreadable: ${(err as Error).message}`);
      return;
    }
    for (const r of records) {
      this.counters.frames++;
      this.counters.bytes += r.origLen;
      const s = summarize(r.data, r.timeUs, r.origLen, guestMac);
      for (const c of this.consumers) c.onPacket(r, s);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Adds a consumer; the returned function removes it (the last one out ends the capture). */
  add(consumer: CaptureConsumer): () => void {
    if (this.closed) throw new Error('the capture has ended');
    this.consumers.add(consumer);
    return () => {
      if (!this.consumers.delete(consumer)) return;
      consumer.onEnd('stopped');
      if (this.consumers.size === 0) this.close('no consumer left');
    };
  }

  /** Removes the filter (if the VM still runs), closes the FIFO and ends every consumer. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // object-del first, while the FIFO is still drained: QEMU may be mid-write.
    void this.target
      .removePacketDump(this.filterId)
      .catch(() => undefined) // the VM has exited: the filter went with it
      .finally(() => {
        this.sock.destroy();
        rmSync(this.dir, { recursive: true, force: true });
      });
    for (const c of this.consumers) c.onEnd(reason);
    this.consumers.clear();
    this.onClosed();
  }
}
