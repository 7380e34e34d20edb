// Loopback harness: Node's own sockets on 127.0.0.1 in front of a protocol engine compiled to
// Wasm (kernel/lib/{dns,http,kv}/engine-exports.ts). Real clients (dig, curl, redis-cli,
// redis-benchmark) talk to the very AssemblyScript code the appliances run; only the TCP/IP
// stack is Linux's instead of ours. The full appliances on a TAP are tested separately.
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Wasm, type WasmMemory } from '../host/wasm-api.ts';

export const LIB = join(dirname(fileURLToPath(import.meta.url)), '..');

interface EngineExports {
  memory: WasmMemory;
  inPtr(): number;
  inCap(): number;
  outPtr(): number;
  setup(len: number): number;
  datagram?(len: number): number;
  open(id: number): void;
  data(id: number, len: number): number;
  closed(id: number): void;
  closeAfter(id: number): number;
  expired(nowMs: bigint): number;
  setTimeouts?(idleMs: bigint, requestMs: bigint): void;
  diskImage?(): number;
  reserve?(len: number): void;
}

const compiled = new Map<string, Promise<Uint8Array>>();

/**
 * Hash of the sources an engine is compiled from (engine-exports.ts and its relative imports,
 * followed transitively): the key of the compile cache, so unrelated edits keep it valid.
 */
function engineSourceHash(proto: 'dns' | 'http' | 'kv'): string {
  const h = createHash('sha256');
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    h.update(file).update(text);
    for (const m of text.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g))
      visit(join(dirname(file), `${m[1]}.ts`));
  };
  visit(join(LIB, proto, 'engine-exports.ts'));
  return h.digest('hex').slice(0, 24);
}

/**
 * Compiles `kernel/lib/<proto>/engine-exports.ts`, once per source state: asc takes many
 * seconds on a loaded machine, and every test file and the benchmark need the same modules.
 */
export function compileEngine(proto: 'dns' | 'http' | 'kv', optimize = true): Promise<Uint8Array> {
  const key = `${proto}:${optimize}`;
  let p = compiled.get(key);
  if (!p) {
    const cacheDir = join(tmpdir(), 'kiln-engine-cache');
    const file = join(cacheDir, `${proto}-${optimize ? 'O3' : 'O1'}-${engineSourceHash(proto)}.wasm`);
    try {
      p = Promise.resolve(new Uint8Array(readFileSync(file)));
    } catch {
      // loaded lazily: importing the compiler (binaryen) costs seconds of CPU
      p = import('../build/compile-as.ts')
        .then(({ compileAppliance }) =>
          compileAppliance({ entry: join(LIB, proto, 'engine-exports.ts'), optimize }),
        )
        .then((r) => {
          const errors = r.diagnostics.filter((d) => d.severity === 'error');
          if (errors.length > 0) {
            throw new Error(
              errors.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}\n${d.excerpt}`).join('\n'),
            );
          }
          mkdirSync(cacheDir, { recursive: true });
          const tmp = `${file}.${process.pid}`;
          writeFileSync(tmp, r.wasm);
          renameSync(tmp, file); // atomic: concurrent test processes never read half a file
          return r.wasm;
        });
    }
    compiled.set(key, p);
  }
  return p;
}

function readAsString(mem: WasmMemory, ptr: number): string {
  if (ptr === 0) return '';
  const len = new Uint32Array(mem.buffer, ptr - 4, 1)[0] ?? 0;
  return Buffer.from(new Uint8Array(mem.buffer, ptr, len)).toString('utf16le');
}

/** One instance of an engine: byte-level calls, no sockets. */
export class Engine {
  readonly ex: EngineExports;
  private constructor(ex: EngineExports) {
    this.ex = ex;
  }

  static async create(proto: 'dns' | 'http' | 'kv', optimize = true): Promise<Engine> {
    const wasm = await compileEngine(proto, optimize);
    let mem: WasmMemory | null = null;
    const imports = {
      env: {
        abort(msg: number, file: number, line: number, col: number): never {
          const m = mem ? readAsString(mem, msg) : '';
          const f = mem ? readAsString(mem, file) : '';
          throw new Error(`abort: ${m} at ${f}:${line}:${col}`);
        },
      },
    };
    const { instance } = await Wasm.instantiate(wasm, imports);
    const ex = instance.exports as unknown as EngineExports;
    mem = ex.memory;
    return new Engine(ex);
  }

  private put(data: Uint8Array): number {
    if (this.ex.reserve && data.length > this.ex.inCap()) this.ex.reserve(data.length);
    const cap = this.ex.inCap();
    if (data.length > cap) throw new Error(`input of ${data.length} bytes exceeds ${cap}`);
    new Uint8Array(this.ex.memory.buffer, this.ex.inPtr(), data.length).set(data);
    return data.length;
  }

  private take(len: number): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer, this.ex.outPtr(), len).slice();
  }

  /** Returns null when setup succeeded, else the engine's error message. */
  setup(config: Uint8Array): string | null {
    const n = this.ex.setup(this.put(config));
    return n === 0 ? null : Buffer.from(this.take(n)).toString();
  }

  datagram(msg: Uint8Array): Uint8Array | null {
    if (!this.ex.datagram) throw new Error('engine has no datagram entry');
    const n = this.ex.datagram(this.put(msg));
    return n < 0 ? null : this.take(n);
  }

  open(id: number): void {
    this.ex.open(id);
  }

  /** Feeds bytes (in input-sized pieces); null means: close now. */
  data(id: number, bytes: Uint8Array): Uint8Array | null {
    const parts: Uint8Array[] = [];
    const cap = this.ex.inCap();
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); off += cap) {
      const piece = bytes.subarray(off, Math.min(bytes.length, off + cap));
      const n = this.ex.data(id, this.put(piece));
      if (n < 0) return null;
      if (n > 0) parts.push(this.take(n));
      if (bytes.length === 0) break;
    }
    return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
  }

  /** The KV engine's RAM disk (the persisted log), to boot another instance from it. */
  diskImage(): Uint8Array {
    if (!this.ex.diskImage) throw new Error('engine has no disk');
    return this.take(this.ex.diskImage());
  }

  closeAfter(id: number): boolean {
    return this.ex.closeAfter(id) !== 0;
  }

  closed(id: number): void {
    this.ex.closed(id);
  }

  expired(nowMs: number): number {
    return this.ex.expired(BigInt(Math.floor(nowMs)));
  }
}

export interface LoopbackServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `engine` over TCP (and UDP on the same port when `udp`) on 127.0.0.1. */
export async function serveLoopback(
  engine: Engine,
  opts: { udp?: boolean; port?: number } = {},
): Promise<LoopbackServer> {
  let nextId = 1;
  engine.expired(Date.now()); // sets the engine clock before the first connection
  const sockets = new Map<number, Socket>();
  const tcp: Server = createServer({ noDelay: true }, (sock) => {
    const id = nextId++;
    sockets.set(id, sock);
    engine.open(id);
    sock.on('data', (chunk: Buffer) => {
      const out = engine.data(id, chunk);
      if (out === null) {
        sock.destroy();
        return;
      }
      if (out.length > 0) sock.write(out);
      if (engine.closeAfter(id)) sock.end();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(id);
      engine.closed(id);
    });
  });
  await new Promise<void>((res) => tcp.listen(opts.port ?? 0, '127.0.0.1', res));
  const addr = tcp.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let udp: UdpSocket | null = null;
  if (opts.udp) {
    const u = createSocket('udp4');
    u.on('message', (msg, rinfo) => {
      const out = engine.datagram(msg);
      if (out) u.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((res) => u.bind(port, '127.0.0.1', res));
    udp = u;
  }
  const timer = setInterval(() => {
    for (let id = engine.expired(Date.now()); id >= 0; id = engine.expired(Date.now())) {
      sockets.get(id)?.destroy();
      engine.closed(id);
    }
  }, 100);
  return {
    port,
    close: async () => {
      clearInterval(timer);
      for (const s of sockets.values()) s.destroy();
      await new Promise<void>((res) => tcp.close(() => res()));
      if (udp) await new Promise<void>((res) => udp.close(() => res()));
    },
  };
}
