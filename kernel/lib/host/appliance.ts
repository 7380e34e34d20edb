// Runs an appliance's Wasm under Node: a worker thread executes it (see worker-source.ts), and
// each NIC is a TAP device relayed by the kiln-tap helper (optionally inside a network namespace).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { ensureTapHelper, readTapFrames, tapRecord } from './tap-helper.ts';
import { MTU, RING_SLOTS, SLOT_BYTES, WORKER_SOURCE } from './worker-source.ts';

export interface NicSpec {
  /** TAP device name; it must exist (and be up) in `netns` or the current namespace. */
  tap: string;
  /** Network namespace holding the TAP (`ip netns exec` is used to open it). */
  netns?: string;
  /** 6 bytes; default: random locally administered unicast. */
  mac?: Uint8Array;
}

export interface StartOptions {
  wasm: Uint8Array;
  args?: string;
  /** The config blob (`config_get`); objects are serialised as JSON. */
  config?: string | object;
  nics?: NicSpec[];
  /** Disk image paths (block devices, 512-byte blocks). */
  disks?: string[];
  /**
   * Link impairment applied by the host relay to frames in both directions, like
   * `tc qdisc netem loss L% delay D reorder R%` (this machine's kernel has no sch_netem): each frame
   * is dropped with probability `loss`, else delayed by `delayMs`, except that a fraction `reorder`
   * of them skips the delay and overtakes the others. Like netem on the tap, only frames toward
   * the appliance are impaired unless `bothWays`.
   */
  impair?: { loss: number; delayMs: number; reorder: number; bothWays?: boolean };
  /** Observes every frame on the wire side of the relay ('in' = toward the appliance). */
  tap?: (direction: 'in' | 'out', nic: number, frame: Uint8Array) => void;
}

export interface ExitInfo {
  status: number;
  /** Set when the Wasm trapped or failed to instantiate. */
  error?: string;
}

export interface NetStats {
  /** Counters published by the library's `kiln_stats` export (names: NET_STAT_NAMES). */
  values: Record<string, number>;
  memoryBytes: number;
}

/** Order of the counters in kernel/lib/stats.ts (keep in sync). */
export const NET_STAT_NAMES = [
  'tcpActive',
  'tcpListeners',
  'tcpTimeWait',
  'tcpAccepted',
  'tcpResets',
  'tcpRetransmits',
  'arpEntries',
  'reassemblies',
  'udpSockets',
  'rxFrames',
  'txFrames',
  'rxDropped',
  'tcpBufferedBytes',
  'arpRx',
  'ipRx',
  'ipReassembled',
  'icmpRx',
  'udpRx',
  'tcpRx',
  'dhcpRx',
] as const;

export interface ApplianceHandle {
  /** Raw console bytes as they come. */
  console: PassThrough;
  /** Everything written to the console so far (UTF-8). */
  output(): string;
  /** Resolves once the console output matches; rejects on timeout or exit. */
  waitForOutput(match: string | RegExp, timeoutMs: number): Promise<void>;
  /** Asks the running appliance for its counters (needs `export { kiln_stats } from "kiln/net"`). */
  stats(timeoutMs?: number): Promise<NetStats>;
  stop(): Promise<void>;
  exited: Promise<ExitInfo>;
  macs: Uint8Array[];
}

function randomMac(): Uint8Array {
  const m = new Uint8Array(randomBytes(6));
  m[0] = (m[0]! & 0xfe) | 0x02;
  return m;
}

export async function startAppliance(opts: StartOptions): Promise<ApplianceHandle> {
  const nics = opts.nics ?? [];
  const helper = nics.length > 0 ? await ensureTapHelper() : '';
  const wakeSab = new SharedArrayBuffer(4);
  const wake = new Int32Array(wakeSab);
  const statsSab = new SharedArrayBuffer(4);
  const statsReq = new Int32Array(statsSab);
  const macs = nics.map((n) => n.mac ?? randomMac());
  const rings = nics.map(() => ({
    ctrlSab: new SharedArrayBuffer(8),
    dataSab: new SharedArrayBuffer(RING_SLOTS * SLOT_BYTES),
  }));

  const impair = opts.impair;
  /** Runs `deliver` now, later, or never, according to the impairment settings. */
  const impaired = (deliver: () => void): void => {
    if (!impair) return deliver();
    if (Math.random() < impair.loss) return;
    if (impair.delayMs <= 0 || Math.random() < impair.reorder) return deliver();
    setTimeout(deliver, impair.delayMs);
  };

  const helpers: ChildProcess[] = nics.map((nic, h) => {
    const cmd = nic.netns ? 'ip' : helper;
    const argv = nic.netns ? ['netns', 'exec', nic.netns, helper, nic.tap] : [nic.tap];
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const ring = rings[h]!;
    const ctrl = new Int32Array(ring.ctrlSab);
    const data = new Uint8Array(ring.dataSab);
    const dv = new DataView(ring.dataSab);
    readTapFrames(child.stdout!, (frame) => {
      opts.tap?.('in', h, frame);
      if (impair) {
        const copy = Buffer.from(frame);
        impaired(() => enqueue(copy));
      } else enqueue(frame);
    });
    const enqueue = (frame: Uint8Array): void => {
      const head = Atomics.load(ctrl, 0);
      const tail = Atomics.load(ctrl, 1);
      // Full ring or oversized frame: drop, as a NIC would.
      if (head - tail < RING_SLOTS && frame.length <= MTU + 14) {
        const slot = (head % RING_SLOTS) * SLOT_BYTES;
        dv.setUint32(slot, frame.length, true);
        data.set(frame, slot + 4);
        Atomics.store(ctrl, 0, head + 1);
      }
      Atomics.add(wake, 0, 1);
      Atomics.notify(wake, 0);
    };
    child.stderr!.on('data', () => {});
    child.stdin!.on('error', () => {});
    return child;
  });

  const config = typeof opts.config === 'string' ? opts.config : JSON.stringify(opts.config ?? {});
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      wasm: opts.wasm,
      args: opts.args ?? '',
      config,
      nics: rings.map((r, h) => ({ ...r, mac: macs[h] })),
      disks: opts.disks ?? [],
      wakeSab,
      statsSab,
    },
  });

  const consoleStream = new PassThrough();
  let text = '';
  const watchers = new Set<() => void>();
  const statsWaiters = new Map<number, (s: NetStats) => void>();
  let exitInfo: ExitInfo | null = null;
  let resolveExit!: (e: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((r) => (resolveExit = r));
  const finish = (info: ExitInfo): void => {
    if (exitInfo) return;
    exitInfo = info;
    for (const c of helpers) c.kill('SIGTERM');
    consoleStream.end();
    for (const w of watchers) w();
    resolveExit(info);
  };

  worker.on(
    'message',
    (m: {
      t: string;
      h?: number;
      frame?: Uint8Array;
      data?: Uint8Array;
      status?: number;
      error?: string;
      seq?: number;
      values?: number[];
      memoryBytes?: number;
    }) => {
      if (m.t === 'tx') {
        const child = helpers[m.h!];
        if (!child?.stdin?.writable) return;
        const record = tapRecord(m.frame!);
        opts.tap?.('out', m.h!, m.frame!);
        const send = (): void => {
          if (child.stdin?.writable) child.stdin.write(record);
        };
        if (impair?.bothWays) impaired(send);
        else send();
      } else if (m.t === 'console') {
        const b = Buffer.from(m.data!);
        text += b.toString('utf8');
        consoleStream.write(b);
        for (const w of watchers) w();
      } else if (m.t === 'stats') {
        const values: Record<string, number> = {};
        (m.values ?? []).forEach((v, i) => (values[NET_STAT_NAMES[i] ?? `c${i}`] = v));
        statsWaiters.get(m.seq!)?.({ values, memoryBytes: m.memoryBytes ?? 0 });
        statsWaiters.delete(m.seq!);
      } else if (m.t === 'exit') {
        finish(m.error ? { status: m.status!, error: m.error } : { status: m.status! });
      }
    },
  );
  worker.on('error', (e) => finish({ status: 4, error: String(e.stack ?? e) }));
  worker.on('exit', () => finish({ status: exitInfo?.status ?? 4, error: 'worker ended' }));

  return {
    console: consoleStream,
    macs,
    output: () => text,
    exited,
    waitForOutput(match, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const test = (): boolean => (typeof match === 'string' ? text.includes(match) : match.test(text));
        if (test()) return resolve();
        const timer = setTimeout(
          () => done(new Error(`timeout waiting for ${String(match)}; console:\n${text}`)),
          timeoutMs,
        );
        const check = (): void => {
          if (test()) done(null);
          else if (exitInfo)
            done(
              new Error(
                `appliance exited (${JSON.stringify(exitInfo)}) before ${String(match)}; console:\n${text}`,
              ),
            );
        };
        const done = (err: Error | null): void => {
          clearTimeout(timer);
          watchers.delete(check);
          if (err) reject(err);
          else resolve();
        };
        watchers.add(check);
      });
    },
    stats(timeoutMs = 5000) {
      const seq = Atomics.add(statsReq, 0, 1) + 1;
      Atomics.add(wake, 0, 1);
      Atomics.notify(wake, 0);
      return new Promise<NetStats>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('stats timeout')), timeoutMs);
        statsWaiters.set(seq, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
      });
    },
    async stop() {
      if (!exitInfo) {
        await worker.terminate();
        finish({ status: 130, error: 'stopped' });
      }
      await exited;
    },
  };
}
