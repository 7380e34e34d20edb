// The two kinds of capture consumer. Both bound what they hold and count what they drop: the
// capture itself never waits for them (capture-session.ts).
import type { Writable } from 'node:stream';
import type { CaptureConsumer } from './capture-session.ts';
import type { PacketSummary } from './decode.ts';
import { pcapFileHeader, pcapRecord, type PcapRecord } from './pcap.ts';

export interface PacketBatch {
  packets: PacketSummary[];
  /** Frames not shown since the previous batch (the viewer could not keep up). */
  dropped: number;
  /** Set on the last batch: why the capture ended. */
  ended?: string;
}

/**
 * Live view: summaries go out in batches at most every `intervalMs`, at most `maxPerBatch` per
 * batch; beyond that frames are counted as dropped (a list cannot show more anyway).
 */
export class SummaryBatcher implements CaptureConsumer {
  private pending: PacketSummary[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(
    private readonly emit: (b: PacketBatch) => void,
    private readonly intervalMs = 100,
    private readonly maxPerBatch = 500,
  ) {}

  onPacket(_r: PcapRecord, s: PacketSummary): void {
    if (this.ended) return;
    if (this.pending.length >= this.maxPerBatch) this.dropped++;
    else this.pending.push(s);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  private flush(ended?: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending.length && !this.dropped && ended === undefined) return;
    const batch: PacketBatch = { packets: this.pending, dropped: this.dropped };
    if (ended !== undefined) batch.ended = ended;
    this.pending = [];
    this.dropped = 0;
    this.emit(batch);
  }

  onEnd(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.flush(reason);
  }
}

export interface PcapSinkLimits {
  /** Stop after this many frames. */
  count?: number;
  /** Stop after this long. */
  seconds?: number;
  /** Stop before the file would grow beyond this many bytes. */
  maxBytes?: number;
}

/**
 * A pcap file on a stream (HTTP response, file). While the stream pushes back, frames are dropped
 * and counted rather than queued. `done` resolves when the capture ended or a limit was reached.
 */
export class PcapSink implements CaptureConsumer {
  frames = 0;
  dropped = 0;
  bytes = 0;
  private blocked = false;
  private finished = false;
  private timer: NodeJS.Timeout | null = null;
  readonly done: Promise<{ frames: number; dropped: number; reason: string }>;
  private resolve!: (v: { frames: number; dropped: number; reason: string }) => void;
  /** Set by the owner: ends the consumer's subscription (called once a limit is reached). */
  unsubscribe: () => void = () => undefined;

  constructor(
    private readonly out: Writable & { destroyed: boolean },
    private readonly limits: PcapSinkLimits = {},
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    out.on('drain', () => (this.blocked = false));
    out.on('close', () => this.finish('the reader went away'));
    if (limits.seconds !== undefined)
      this.timer = setTimeout(() => this.finish(`${limits.seconds} s elapsed`), limits.seconds * 1000);
  }

  private begun = false;

  /** Writes the file header (at the latest before the first frame or at the end). */
  begin(): void {
    if (this.begun) return;
    this.begun = true;
    this.out.write(pcapFileHeader());
  }

  onPacket(r: PcapRecord): void {
    if (this.finished) return;
    this.begin();
    if (this.blocked) {
      this.dropped++;
      return;
    }
    const rec = pcapRecord(r);
    if (this.limits.maxBytes !== undefined && 24 + this.bytes + rec.length > this.limits.maxBytes) {
      this.finish(`size limit of ${this.limits.maxBytes} bytes reached`);
      return;
    }
    this.blocked = !this.out.write(rec);
    this.bytes += rec.length;
    this.frames++;
    if (this.limits.count !== undefined && this.frames >= this.limits.count)
      this.finish(`${this.frames} frames captured`);
  }

  onEnd(reason: string): void {
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.out.destroyed) this.begin(); // an empty capture is still a valid pcap file
    if (this.timer) clearTimeout(this.timer);
    this.resolve({ frames: this.frames, dropped: this.dropped, reason });
    this.unsubscribe();
  }
}
