// Turns a run's console byte stream into stored text: decoded as UTF-8 across chunk boundaries,
// written in small transactions (at most every 100 ms) so output survives exit, crash and an
// engine restart, and watched for the boot milestones (first byte, "kiln: ready").
import { StringDecoder } from 'node:string_decoder';
import type { RunRepo } from './run-repo.ts';

export class ConsoleRecorder {
  private decoder = new StringDecoder('utf8');
  private pending: { at: number; kind: 'out' | 'in' | 'gap'; data: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private tail = '';
  firstByteAt: number | null = null;
  readyAt: number | null = null;

  constructor(
    private readonly repo: RunRepo,
    private readonly runId: number,
    private readonly capBytes: number,
    private readonly onMilestone: (kind: 'first-byte' | 'ready', at: number) => void,
  ) {}

  /** Guest output; returns the decoded text (for live subscribers). */
  output(bytes: Buffer, at = Date.now()): string {
    if (this.firstByteAt === null && bytes.length > 0) {
      this.firstByteAt = at;
      this.onMilestone('first-byte', at);
    }
    const text = this.decoder.write(bytes);
    if (text === '') return text;
    if (this.readyAt === null) {
      const window = this.tail + text;
      if (/(^|\n)kiln: ready\r?\n/.test(window)) {
        this.readyAt = at;
        this.onMilestone('ready', at);
      }
      this.tail = window.slice(-32);
    }
    this.queue({ at, kind: 'out', data: text });
    return text;
  }

  input(text: string, at = Date.now()): void {
    this.queue({ at, kind: 'in', data: text });
  }

  /** Marks a hole in the capture (e.g. the engine was not attached). */
  gap(message: string, at = Date.now()): void {
    this.queue({ at, kind: 'gap', data: `[kiln: ${message}]\n` });
  }

  private queue(c: { at: number; kind: 'out' | 'in' | 'gap'; data: string }): void {
    const last = this.pending.at(-1);
    if (last && last.kind === c.kind && last.kind !== 'gap' && last.data.length < 8192) last.data += c.data;
    else this.pending.push(c);
    this.timer ??= setTimeout(() => this.flush(), 100);
  }

  /** Output received but not yet written (so a new live viewer misses nothing). */
  pendingText(): string {
    return this.pending
      .filter((c) => c.kind !== 'in')
      .map((c) => c.data)
      .join('');
  }

  /** Writes what is queued; `final` also flushes a trailing partial UTF-8 sequence. */
  flush(final = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (final) {
      const rest = this.decoder.end();
      if (rest !== '') this.pending.push({ at: Date.now(), kind: 'out', data: rest });
      this.decoder = new StringDecoder('utf8');
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.repo.appendConsole(this.runId, batch, this.capBytes);
  }
}
