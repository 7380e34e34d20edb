// Drives a kiln-harness process over its stdin/stdout line protocol (README.md): load a blob,
// invoke exports, read globals. One process runs many assertions; it is restarted after a
// timeout or if it dies.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHarness } from './build.ts';

export type Outcome =
  | { kind: 'ok'; values: bigint[] }
  | { kind: 'trap'; code: number; message: string }
  | { kind: 'error'; message: string }
  /** The compiled code faulted (a compiler bug), the harness died, or the call timed out. */
  | { kind: 'crash'; message: string };

function parse(line: string): Outcome {
  const [head, ...rest] = line.split(' ');
  if (head === 'ok')
    return { kind: 'ok', values: rest.filter((s) => s.length > 0).map((s) => BigInt(`0x${s}`)) };
  if (head === 'trap') return { kind: 'trap', code: Number(rest[0]), message: rest.slice(1).join(' ') };
  if (head === 'crash') return { kind: 'crash', message: rest.join(' ') };
  return { kind: 'error', message: rest.join(' ') };
}

export class HarnessClient {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private buffer = '';
  private waiting: ((line: string | null) => void) | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'kiln-harness-'));
  private blobSeq = 0;

  constructor(private readonly timeoutMs = 20000) {}

  private start(): ChildProcessWithoutNullStreams {
    const p = spawn(ensureHarness(), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      this.buffer += d;
      this.deliver();
    });
    p.stderr.on('data', () => {}); // spectest.print_* output
    p.on('exit', () => {
      if (this.proc === p) this.proc = null;
      const w = this.waiting;
      this.waiting = null;
      w?.(null);
    });
    this.proc = p;
    this.buffer = '';
    return p;
  }

  private deliver(): void {
    const nl = this.buffer.indexOf('\n');
    if (nl < 0 || !this.waiting) return;
    const line = this.buffer.slice(0, nl);
    this.buffer = this.buffer.slice(nl + 1);
    const w = this.waiting;
    this.waiting = null;
    w(line);
  }

  private async command(cmd: string): Promise<Outcome> {
    const p = this.proc ?? this.start();
    const line = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        p.kill('SIGKILL');
        resolve('crash timeout');
      }, this.timeoutMs);
      this.waiting = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
      p.stdin.write(`${cmd}\n`);
      this.deliver();
    });
    if (line === null) return { kind: 'crash', message: 'harness exited' };
    if (line === 'crash timeout') {
      this.proc = null;
      return { kind: 'crash', message: `timeout after ${this.timeoutMs} ms` };
    }
    return parse(line);
  }

  /**
   * Instantiates a blob (runs its start function); a trap here is a trap at instantiation. On
   * success the outcome's one value is the instance id (for `use`), and the new instance is the
   * current one. Earlier instances stay alive in the same process (imports may link to them).
   */
  async load(blob: Uint8Array): Promise<Outcome> {
    const path = join(this.dir, `m${this.blobSeq++}.blob`);
    writeFileSync(path, blob);
    const o = await this.command(`load ${path}`);
    rmSync(path, { force: true }); // the harness has read it
    return o;
  }

  /** Makes instance `id` (from load) the one invoke and get act on. */
  async use(id: bigint): Promise<Outcome> {
    return this.command(`use ${id.toString(16)}`);
  }

  /** Registers the current instance under a module name other instances can import from. */
  async register(name: string): Promise<Outcome> {
    return this.command(`register ${Buffer.from(name, 'utf8').toString('hex') || '-'}`);
  }

  /** Whether the process is running (false after a crash or timeout lost every instance). */
  get alive(): boolean {
    return this.proc !== null;
  }

  /** Calls an export; args and results are raw bits (i32/f32 in the low 32 bits). */
  async invoke(name: string, args: readonly bigint[]): Promise<Outcome> {
    const hex = Buffer.from(name, 'utf8').toString('hex');
    return this.command(
      `invoke ${hex || '-'} ${args.map((a) => BigInt.asUintN(64, a).toString(16)).join(' ')}`.trimEnd(),
    );
  }

  /** Reads an exported global's raw bits. */
  async get(name: string): Promise<Outcome> {
    return this.command(`get ${Buffer.from(name, 'utf8').toString('hex') || '-'}`);
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc?.kill();
    this.proc = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
