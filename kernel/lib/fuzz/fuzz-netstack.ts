// Netstack fuzzer: `npm run fuzz:netstack -- --seconds N [--seed S] [--target NAME]`.
// Compiles a harness appliance, runs it in-process with a host whose clock the fuzzer drives, and
// feeds it random and mutated frames. Fails on any trap, on a call that hangs, or on memory or
// connection counts that keep growing. Targets are listed in TARGETS (other layers add theirs).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCached } from '../host/testing/compiled.ts';
import {
  APP_IP,
  PEER_IP,
  arp,
  fragments,
  icmpEcho,
  int,
  ipv4,
  mutate,
  tcp,
  udp,
  type Rng,
} from './frames.ts';
import { PROTOCOL_TARGETS } from '../bench/protocol-fuzz-targets.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The slice of the WebAssembly JS API we use (this project's lib settings do not declare it). */
interface WasmMemory {
  buffer: ArrayBuffer;
}
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: object,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface FuzzInstance {
  exports: Record<string, unknown>;
  memory: WasmMemory;
  /** Frames the appliance sent since the last call. */
  takeSent(): Buffer[];
  advanceMs(ms: number): void;
}

export interface FuzzTarget {
  name: string;
  /** Appliance entry exporting fuzz_buffer/fuzz_frame/fuzz_turn (and kiln_stats). */
  entry: string;
  /** Produces the next batch of inputs; may look at what the appliance sent to stay in sync. */
  next(rng: Rng, sent: Buffer[]): Buffer[];
}

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

/** Instantiates a harness with a host whose monotonic clock only moves when told to. */
export async function instantiate(wasm: Uint8Array): Promise<FuzzInstance> {
  let nowNs = 1_000_000_000n;
  // Assigned once the instance exists; the imports below close over it.
  // eslint-disable-next-line prefer-const
  let memory!: WasmMemory;
  let sent: Buffer[] = [];
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
      for (let i = 0; i < n; i++) m[i] = (Math.random() * 256) | 0;
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
  const { instance } = await WA.instantiate(wasm, { kiln, env });
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
    advanceMs: (ms) => {
      nowNs += BigInt(Math.floor(ms * 1e6));
    },
  };
}

// ---- the network-layer target -------------------------------------------------------------

interface PeerConn {
  sport: number;
  seq: number; // our next sequence number as the peer
  ack: number; // appliance's next sequence number
}

/** Stateful enough to get through handshakes, so data, FIN and RST paths get exercised. */
class NetstackGen {
  conns: PeerConn[] = [];
  learn(sent: Buffer[]): void {
    for (const f of sent) {
      if (f.length < 54 || f.readUInt16BE(12) !== 0x0800 || f[23] !== 6) continue;
      const t = 14 + (f[14]! & 15) * 4;
      if (f.length < t + 20) continue;
      const dport = f.readUInt16BE(t + 2);
      const flags = f[t + 13]! & 0x3f;
      const seq = f.readUInt32BE(t + 4);
      const c = this.conns.find((x) => x.sport === dport);
      if (c && flags & 2) c.ack = (seq + 1) >>> 0;
    }
  }
  next(rng: Rng, sent: Buffer[]): Buffer[] {
    this.learn(sent);
    const r = rng();
    let frames: Buffer[];
    if (r < 0.1)
      frames = [
        arp(
          int(rng, 3),
          rng() < 0.5 ? PEER_IP : int(rng, 2 ** 32),
          rng() < 0.7 ? APP_IP : int(rng, 2 ** 32),
          rng() < 0.5,
        ),
      ];
    else if (r < 0.2)
      frames = [ipv4(1, icmpEcho(int(rng, 1400), rng), { dst: rng() < 0.9 ? APP_IP : 0xffffffff })];
    else if (r < 0.3)
      frames = [
        ipv4(
          17,
          udp(
            1000 + int(rng, 10),
            rng() < 0.7 ? 7 : int(rng, 65536),
            Buffer.alloc(int(rng, 1400), int(rng, 256)),
          ),
        ),
      ];
    else if (r < 0.38)
      frames = fragments(
        rng() < 0.5 ? 1 : 17,
        rng() < 0.5 ? icmpEcho(int(rng, 6000), rng) : udp(2000, 7, Buffer.alloc(int(rng, 6000), 7)),
        rng,
      );
    else if (r < 0.45)
      frames = [
        ipv4(int(rng, 256), Buffer.alloc(int(rng, 100)), {
          options: rng() < 0.5 ? Buffer.from([1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0]) : undefined,
        }),
      ];
    else frames = [this.tcpFrame(rng)];
    // Half of all frames are mutated afterwards.
    return frames.map((f) => (rng() < 0.5 ? mutate(f, rng) : f));
  }
  tcpFrame(rng: Rng): Buffer {
    const r = rng();
    if (r < 0.2 || this.conns.length === 0) {
      const c: PeerConn = { sport: 10000 + int(rng, 300), seq: int(rng, 2 ** 32), ack: 0 };
      this.conns = this.conns.filter((x) => x.sport !== c.sport);
      this.conns.push(c);
      if (this.conns.length > 64) this.conns.shift();
      const options = Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, int(rng, 16), 4, 2, 8, 10]);
      const f = ipv4(
        6,
        tcp({ sport: c.sport, dport: 7, seq: c.seq, ack: 0, flags: 2, window: 65535, options }),
      );
      c.seq = (c.seq + 1) >>> 0;
      return f;
    }
    const c = this.conns[int(rng, this.conns.length)]!;
    const flagsPick = [0x10, 0x18, 0x11, 0x04, 0x14, 0x12, 0x02, 0x3f, 0x00, 0x01, int(rng, 64)];
    const flags = flagsPick[int(rng, flagsPick.length)]!;
    const data = rng() < 0.5 ? Buffer.alloc(int(rng, 1460), int(rng, 256)) : Buffer.alloc(0);
    // Mostly in-window, sometimes off by a little or a lot.
    const jitter = rng() < 0.8 ? 0 : int(rng, 200000) - 100000;
    const f = ipv4(
      6,
      tcp({
        sport: c.sport,
        dport: 7,
        seq: (c.seq + jitter) >>> 0,
        ack: (c.ack + (rng() < 0.8 ? 0 : int(rng, 3000) - 1000)) >>> 0,
        flags,
        window: rng() < 0.1 ? 0 : int(rng, 65536),
        data,
      }),
    );
    if (jitter === 0) c.seq = (c.seq + data.length + (flags & 1)) >>> 0;
    return f;
  }
}

export const TARGETS: FuzzTarget[] = [
  (() => {
    const gen = new NetstackGen();
    return {
      name: 'netstack',
      entry: join(here, '..', 'apps', 'fuzz-harness.ts'),
      next: (rng: Rng, sent: Buffer[]) => gen.next(rng, sent),
    };
  })(),
  // DNS messages, HTTP requests and RESP commands straight into the protocol engines
  ...PROTOCOL_TARGETS,
];

export interface FuzzReport {
  target: string;
  iterations: number;
  frames: number;
  maxMemoryBytes: number;
  maxConnections: number;
}

/** Runs one target for `seconds`; throws with a reproducer on the first failure. */
export async function fuzzTarget(target: FuzzTarget, seconds: number, seed: number): Promise<FuzzReport> {
  const wasm = await compileCached(target.entry);
  const fi = await instantiate(wasm);
  const rng = makeRng(seed);
  const buf = (fi.exports.fuzz_buffer as () => number)();
  const feed = fi.exports.fuzz_frame as (n: number) => void;
  const turnFn = fi.exports.fuzz_turn as () => void;
  const connections = fi.exports.fuzz_connections as (() => number) | undefined;
  const end = Date.now() + seconds * 1000;
  const report: FuzzReport = {
    target: target.name,
    iterations: 0,
    frames: 0,
    maxMemoryBytes: 0,
    maxConnections: 0,
  };
  let memoryAtWarmup = 0;
  // A frame that never returns (an endless loop) cannot be reported after the fact: with
  // KILN_FUZZ_LAST=<file> each frame is written there before it is fed, so it survives a kill.
  const lastFile = process.env.KILN_FUZZ_LAST;
  while (Date.now() < end) {
    const frames = target.next(rng, fi.takeSent());
    for (const f of frames) {
      const n = Math.min(f.length, 65536);
      new Uint8Array(fi.memory.buffer, buf, n).set(f.subarray(0, n));
      if (lastFile) writeFileSync(lastFile, f.toString('hex'));
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      try {
        feed(n);
        if (rng() < 0.3) {
          fi.advanceMs(rng() < 0.9 ? int(rng, 300) : int(rng, 40000));
          turnFn();
        }
      } catch (e) {
        throw new Error(
          `${target.name}: trap on frame ${f.toString('hex')} (seed ${seed}, iteration ${report.iterations}): ${String(e)}`,
        );
      }
      // CPU time, not wall time: on a loaded machine a frame can wait seconds for a core.
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const ms = performance.now() - t0;
      if (cpuMs > 2000)
        throw new Error(
          `${target.name}: one frame took ${cpuMs.toFixed(0)} ms of CPU (${ms.toFixed(0)} ms wall; hang?) ${f.toString('hex')}`,
        );
      report.frames++;
    }
    report.iterations++;
    report.maxMemoryBytes = Math.max(report.maxMemoryBytes, fi.memory.buffer.byteLength);
    if (connections) report.maxConnections = Math.max(report.maxConnections, connections());
    if (report.iterations === 2000) memoryAtWarmup = fi.memory.buffer.byteLength;
  }
  // Memory bound: after warm-up the heap may settle, but not keep doubling.
  if (memoryAtWarmup && report.maxMemoryBytes > Math.max(4 * memoryAtWarmup, 256 * 1024 * 1024)) {
    throw new Error(`${target.name}: memory grew from ${memoryAtWarmup} to ${report.maxMemoryBytes} bytes`);
  }
  return report;
}

async function cli(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
  };
  const seconds = Number(opt('seconds', '30'));
  const seed = Number(opt('seed', String(Date.now() % 2 ** 31)));
  const only = opt('target', '');
  const targets = TARGETS.filter((t) => !only || t.name === only);
  for (const t of targets) {
    const r = await fuzzTarget(t, seconds, seed);
    console.log(
      `${r.target}: ${r.iterations} iterations, ${r.frames} frames, seed ${seed}, max memory ${(r.maxMemoryBytes / 1048576).toFixed(1)} MiB, max connections ${r.maxConnections}: no trap, no hang`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().catch((e: unknown) => {
    console.error(String(e instanceof Error ? e.message : e));
    process.exit(1);
  });
}
