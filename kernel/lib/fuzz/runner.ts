// The fuzz runner: compiles a target's harness appliance, runs it in-process with a host whose
// clock only the runner moves, feeds it the target's inputs and fails on the first finding:
// a trap, an input over its step budget (CPU time, frames sent), a hang (a watchdog thread kills
// the process with the input when one call does not return), or memory or stack counters past
// their bounds. It also records what the run reached (the stack's per-layer counters, their peaks,
// the connection/client states seen), so a test can tell a target that reaches its layer from
// one whose inputs are all rejected early.
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { compileCached } from '../host/testing/compiled.ts';
import { NET_STAT_NAMES } from '../host/appliance.ts';
import { int, type Rng } from './frames.ts';
import { watchdogSource } from './watchdog.ts';
import { Wasm, type WasmMemory } from '../host/wasm-api.ts';

export interface FuzzInstance {
  exports: Record<string, unknown>;
  memory: WasmMemory;
  /** Frames the appliance sent since the last call. */
  takeSent(): Buffer[];
  /** Frames the appliance sent since the instance started (not capped like takeSent). */
  sentTotal(): number;
  advanceMs(ms: number): void;
}

/** What a run reached: final and peak counters (NET_STAT_NAMES), OR of the state masks. */
export interface Coverage {
  stats: Record<string, number>;
  peaks: Record<string, number>;
  /** Bit s: some connection (TCP) or the client (DHCP) was in state s after an input. */
  states: number;
  /** Whatever the target's generator counted from the appliance's answers. */
  observed: Record<string, number>;
}

export interface FuzzTarget {
  name: string;
  /** Appliance entry exporting fuzz_buffer/fuzz_frame/fuzz_turn (and kiln_stats, fuzz_states). */
  entry: string;
  /** Produces the next batch of inputs; may look at what the appliance sent to stay in sync. */
  next(rng: Rng, sent: Buffer[]): Buffer[];
  /** True: before this batch, call the harness's `fuzz_fire` (its protocol timer fires now, as
   *  if the clock had reached it: how a client bound for a 68-year lease still gets renewed). */
  fire?(rng: Rng): boolean;
  /** Counts of the generator's own (e.g. well-formed answers it saw); shown in Coverage.observed. */
  observed?(): Record<string, number>;
  /** What this target must reach; returns the expectations a run did not meet. */
  unmet?(c: Coverage): string[];
}

/** Bounds every run must stay under (the stack's own limits, and a memory budget). */
export const BOUNDS = {
  memoryBytes: 64 * 1024 * 1024,
  /** CPU time one input (frame + optional timer turn) may take. */
  inputCpuMs: 2000,
  /** Frames the appliance may send in answer to one input (a timer turn may retransmit on
   *  every connection, 256 at most in the harness). */
  framesPerInput: 1100,
  /** Wall time one call may take before the watchdog calls it a hang (a loaded machine can
   *  stall a thread for seconds; an endless loop stalls it for ever). */
  hangMs: 60_000,
  stats: {
    tcpActive: 256,
    tcpTimeWait: 256,
    reassemblies: 8,
    arpEntries: 512,
    udpSockets: 2,
    tcpBufferedBytes: 16 * 1024 * 1024,
  } as Record<string, number>,
  /** Timers in the event loop's heap (cancelled ones included): a few per connection at most. */
  timers: 1024,
};

/** A seeded xorshift generator, so a failing run can be replayed with --seed. */
export function makeRng(seed: number): Rng {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/**
 * Instantiates a harness with a host whose monotonic clock only moves when told to, and whose
 * random_get is seeded (the appliance's sequence numbers and xids), so a run is repeatable.
 */
export async function instantiate(wasm: Uint8Array, seed = 1): Promise<FuzzInstance> {
  const random = makeRng(seed ^ 0x5bd1e995);
  let nowNs = 1_000_000_000n;
  // Assigned once the instance exists; the imports below close over it.
  // eslint-disable-next-line prefer-const
  let memory!: WasmMemory;
  let sent: Buffer[] = [];
  let sentTotal = 0;
  const mac = [0x02, 0, 0, 0, 0, 0x02];
  const inside = (p: number, n: number): boolean => p >= 0 && n >= 0 && p + n <= memory.buffer.byteLength;
  const kiln = {
    console_write: () => 0,
    clock_monotonic: () => nowNs,
    clock_wall: () => nowNs,
    yield: () => 0n,
    net_count: () => 1,
    net_info: (h: number, out: number) => {
      if (h !== 0 || !inside(out, 12)) return 2;
      const m = new Uint8Array(memory.buffer);
      m.set(mac, out);
      new DataView(memory.buffer).setUint32(out + 8, 1500, true);
      return 0;
    },
    net_read: () => 1,
    net_write: (h: number, p: number, n: number) => {
      if (h !== 0 || !inside(p, n)) return 2;
      sentTotal++;
      if (sent.length < 4096) sent.push(Buffer.from(new Uint8Array(memory.buffer, p, n)));
      return 0;
    },
    block_count: () => 0,
    block_info: () => 2,
    block_read: () => 2,
    block_write: () => 2,
    args_get: () => 0,
    config_get: () => 0,
    random_get: (p: number, n: number) => {
      if (!inside(p, n)) return 2;
      const m = new Uint8Array(memory.buffer, p, n);
      for (let i = 0; i < n; i++) m[i] = int(random, 256);
      return 0;
    },
    exit: (s: number) => {
      throw new Error(`exit ${s}`);
    },
  };
  const env = {
    abort: () => {
      throw new Error('abort called');
    },
  };
  const { instance } = await Wasm.instantiate(wasm, { kiln, env });
  memory = instance.exports.memory as WasmMemory;
  const status = (instance.exports.main as () => number)();
  if (status !== 0) throw new Error(`harness main returned ${status}`);
  return {
    exports: instance.exports as Record<string, unknown>,
    memory,
    takeSent: () => {
      const s = sent;
      sent = [];
      return s;
    },
    sentTotal: () => sentTotal,
    advanceMs: (ms) => {
      nowNs += BigInt(Math.floor(ms * 1e6));
    },
  };
}

/** Reads the `kiln_stats` block (u32 count, then the counters) by NET_STAT_NAMES. */
function readStats(fi: FuzzInstance): Record<string, number> | null {
  const fn = fi.exports.kiln_stats as (() => number) | undefined;
  if (!fn) return null;
  const p = fn();
  const v = new DataView(fi.memory.buffer);
  const n = v.getUint32(p, true);
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) out[NET_STAT_NAMES[i] ?? `c${i}`] = v.getUint32(p + 4 + 4 * i, true);
  return out;
}

export interface FuzzReport {
  target: string;
  seconds: number;
  iterations: number;
  frames: number;
  /** Always 0 in a returned report: the first finding throws with its reproducer. */
  findings: number;
  maxMemoryBytes: number;
  maxConnections: number;
  maxTimers: number;
  coverage: Coverage;
}

class Finding extends Error {}

/**
 * Runs one target for `seconds`, or until `maxInputs` input batches (a repeatable run: the same
 * seed and count give the same inputs and answers); throws with a reproducer on the first failure.
 */
export async function fuzzTarget(
  target: FuzzTarget,
  seconds: number,
  seed: number,
  maxInputs = Infinity,
): Promise<FuzzReport> {
  const wasm = await compileCached(target.entry);
  const fi = await instantiate(wasm, seed);
  const rng = makeRng(seed);
  const buf = (fi.exports.fuzz_buffer as () => number)();
  const feed = fi.exports.fuzz_frame as (n: number) => void;
  const turnFn = fi.exports.fuzz_turn as () => void;
  const connections = fi.exports.fuzz_connections as (() => number) | undefined;
  const statesFn = fi.exports.fuzz_states as (() => number) | undefined;
  const fireFn = fi.exports.fuzz_fire as (() => void) | undefined;
  const started = Date.now();
  const end = started + seconds * 1000;
  const report: FuzzReport = {
    target: target.name,
    seconds: 0,
    iterations: 0,
    frames: 0,
    findings: 0,
    maxMemoryBytes: 0,
    maxConnections: 0,
    maxTimers: 0,
    coverage: { stats: {}, peaks: {}, states: 0, observed: {} },
  };
  const fail = (what: string, f: Buffer): never => {
    throw new Finding(
      `${target.name}: ${what} (seed ${seed}, iteration ${report.iterations}); input ${f.toString('hex')}`,
    );
  };
  const timersFn = fi.exports.fuzz_timers as (() => number) | undefined;
  const checkStats = (f: Buffer): void => {
    const timers = timersFn?.() ?? 0;
    report.maxTimers = Math.max(report.maxTimers, timers);
    if (timers > BOUNDS.timers)
      fail(`${timers} timers pending in the event loop (bound ${BOUNDS.timers})`, f);
    const s = readStats(fi);
    if (!s) return;
    for (const [k, v] of Object.entries(s))
      report.coverage.peaks[k] = Math.max(report.coverage.peaks[k] ?? 0, v);
    for (const [k, bound] of Object.entries(BOUNDS.stats))
      if ((s[k] ?? 0) > bound) fail(`${k} = ${s[k]} exceeds its bound ${bound}`, f);
    report.coverage.stats = s;
  };
  let memoryAtWarmup = 0;
  // A call that never returns cannot be reported from this thread: the watchdog thread sees the
  // input (shared memory) and kills the process with it. KILN_FUZZ_LAST=<file> also keeps it.
  const shared = new SharedArrayBuffer(16 + 65536);
  const ctl = new Int32Array(shared, 0, 4);
  const input = new Uint8Array(shared, 16);
  const watchdog = new Worker(watchdogSource, {
    eval: true,
    workerData: { shared, hangMs: BOUNDS.hangMs, target: target.name, seed },
  });
  watchdog.unref();
  const lastFile = process.env.KILN_FUZZ_LAST;
  try {
    while (Date.now() < end && report.iterations < maxInputs) {
      const frames = target.next(rng, fi.takeSent());
      if (fireFn && target.fire?.(rng)) {
        try {
          fireFn();
        } catch (e) {
          fail(`trap in a timer fired early: ${String(e)}`, frames[0] ?? Buffer.alloc(0));
        }
      }
      for (const f of frames) {
        const n = Math.min(f.length, 65536);
        new Uint8Array(fi.memory.buffer, buf, n).set(f.subarray(0, n));
        input.set(f.subarray(0, n));
        Atomics.store(ctl, 1, n);
        Atomics.add(ctl, 0, 1); // a new input is in flight
        if (lastFile) writeFileSync(lastFile, f.toString('hex'));
        const cpu0 = process.cpuUsage();
        const sent0 = fi.sentTotal();
        try {
          feed(n);
          if (rng() < 0.3) {
            fi.advanceMs(rng() < 0.9 ? int(rng, 300) : int(rng, 40000));
            turnFn();
          }
        } catch (e) {
          fail(`trap: ${String(e)}`, f);
        }
        Atomics.store(ctl, 1, -1); // idle
        // CPU time, not wall time: on a loaded machine an input can wait seconds for a core.
        const cpu = process.cpuUsage(cpu0);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        if (cpuMs > BOUNDS.inputCpuMs) fail(`one input took ${cpuMs.toFixed(0)} ms of CPU (hang?)`, f);
        const sentNow = fi.sentTotal() - sent0;
        if (sentNow > BOUNDS.framesPerInput) fail(`one input made the appliance send ${sentNow} frames`, f);
        if (statesFn) report.coverage.states |= statesFn();
        report.frames++;
        if ((report.frames & 15) === 0) checkStats(f);
      }
      report.iterations++;
      report.maxMemoryBytes = Math.max(report.maxMemoryBytes, fi.memory.buffer.byteLength);
      if (report.maxMemoryBytes > BOUNDS.memoryBytes)
        fail(
          `linear memory grew to ${report.maxMemoryBytes} bytes`,
          frames[frames.length - 1] ?? Buffer.alloc(0),
        );
      if (connections) report.maxConnections = Math.max(report.maxConnections, connections());
      if (report.iterations === 2000) memoryAtWarmup = fi.memory.buffer.byteLength;
    }
    checkStats(Buffer.alloc(0));
  } finally {
    await watchdog.terminate();
  }
  // After warm-up the heap may settle (TCP rings grow up to their 16 MiB budget), but not keep
  // doubling.
  if (memoryAtWarmup && report.maxMemoryBytes > 4 * memoryAtWarmup && report.maxMemoryBytes > 32 << 20)
    throw new Finding(`${target.name}: memory grew from ${memoryAtWarmup} to ${report.maxMemoryBytes} bytes`);
  report.seconds = Math.round((Date.now() - started) / 1000);
  report.coverage.observed = target.observed?.() ?? {};
  return report;
}
