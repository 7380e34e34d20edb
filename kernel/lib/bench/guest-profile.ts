// `npm run profile:guest -- kv|http|dns [--seconds N] [--hz N]` (by hand, root): where an
// appliance's VM spends its CPU under the benchmark's load. The template is compiled with Wasm
// function names (asc --debug, which also inlines less), linked with the kernel base, booted with QEMU's
// gdb stub on the benchmark's QEMU settings, and while the benchmark's client loads it the
// profiler stops the guest `hz` times a second over the gdb remote protocol and reads RIP. Each
// sample is attributed to a Wasm function (the blob's function table) or a kernel base symbol
// (nm); the table is printed by share. Stopping and resuming the guest costs time, so absolute
// rates drop while sampling: only the shares mean something.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileWasm, linkImage } from '../../compiler/index.ts';
import { BASE_IMAGE, defaultAccel } from '../../base/test/qemu-run.ts';
import { createTapNetns } from '../host/netns.ts';
import { dnsperf, redisBenchmark, wrk, writeQueries } from './clients.ts';
import { TEST_ZONE, testSite } from './fixtures.ts';
import { dnsZoneConfig, TEMPLATES, templateAssets } from './templates.ts';
import { bootVm } from './vm.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const WHAT = args[0] ?? 'kv';
const SECONDS = Number(opt('seconds', '10'));
const HZ = Number(opt('hz', '50'));
const APP = '10.77.0.2';

/** Function names from the Wasm "name" custom section (subsection 1). */
function wasmNames(wasm: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  let p = 8;
  const uleb = (): number => {
    let r = 0,
      s = 0,
      b = 0;
    do {
      b = wasm[p++]!;
      r += (b & 0x7f) * 2 ** s;
      s += 7;
    } while (b & 0x80);
    return r;
  };
  while (p < wasm.length) {
    const id = wasm[p++]!;
    const size = uleb();
    const end = p + size;
    if (id === 0) {
      const nlen = uleb();
      const name = new TextDecoder().decode(wasm.subarray(p, p + nlen));
      p += nlen;
      if (name === 'name') {
        while (p < end) {
          const sub = wasm[p++]!;
          const ssize = uleb();
          const send = p + ssize;
          if (sub === 1) {
            const n = uleb();
            for (let i = 0; i < n; i++) {
              const idx = uleb();
              const l = uleb();
              names.set(idx, new TextDecoder().decode(wasm.subarray(p, p + l)));
              p += l;
            }
          }
          p = send;
        }
      }
    }
    p = end;
  }
  return names;
}

interface Sym {
  addr: number;
  name: string;
}

/** Function start addresses: the base's symbols, then every Wasm function in the blob. */
function symbols(image: Uint8Array, blob: Uint8Array, names: Map<number, string>, baseSyms: string): Sym[] {
  const v = new DataView(image.buffer, image.byteOffset, image.length);
  const phoff = Number(v.getBigUint64(0x20, true));
  const phentsize = v.getUint16(0x36, true);
  const phnum = v.getUint16(0x38, true);
  let blobAddr = -1;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (v.getUint32(at, true) !== 1) continue;
    const off = Number(v.getBigUint64(at + 8, true));
    if (Buffer.compare(image.subarray(off, off + 64), blob.subarray(0, 64)) === 0)
      blobAddr = Number(v.getBigUint64(at + 24, true));
  }
  if (blobAddr < 0) throw new Error('blob not found in the image');
  const b = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const codeOff = b.getUint32(16, true);
  const nFuncs = b.getUint32(24, true);
  const funcsOff = b.getUint32(28, true);
  const out: Sym[] = [];
  for (let f = 0; f < nFuncs; f++)
    out.push({
      addr: blobAddr + codeOff + b.getUint32(funcsOff + 8 * f, true),
      name: `wasm:${names.get(f) ?? `func${f}`}`,
    });
  for (const line of execFileSync('nm', ['-n', baseSyms], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) [tTwW] (\S+)$/.exec(line);
    if (m) out.push({ addr: parseInt(m[1]!, 16), name: m[2]! });
  }
  return out.sort((x, y) => x.addr - y.addr);
}

function lookup(syms: Sym[], addr: number): string {
  let lo = 0,
    hi = syms.length - 1,
    best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid]!.addr <= addr) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best < 0 ? `?0x${addr.toString(16)}` : syms[best]!.name;
}

/** The smallest gdb remote protocol client that stops, reads RIP and continues. */
class Gdb {
  private buf = '';
  private waiters: Array<(p: string) => void> = [];
  private constructor(private sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (;;) {
        this.buf = this.buf.replace(/^\++/, '');
        const m = /^\$([^#]*)#[0-9a-fA-F]{2}/.exec(this.buf);
        if (!m) break;
        this.buf = this.buf.slice(m[0].length);
        sock.write('+');
        this.waiters.shift()?.(m[1]!);
      }
    });
  }
  static async open(path: string): Promise<Gdb> {
    for (let i = 0; i < 100; i++) {
      try {
        const s = await new Promise<Socket>((res, rej) => {
          const c = connect(path, () => res(c));
          c.once('error', rej);
        });
        return new Gdb(s);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('gdb stub not reachable');
  }
  private next(): Promise<string> {
    return new Promise((r) => this.waiters.push(r));
  }
  request(pkt: string): Promise<string> {
    let cs = 0;
    for (const ch of pkt) cs = (cs + ch.charCodeAt(0)) & 0xff;
    const reply = this.next();
    this.sock.write(`$${pkt}#${cs.toString(16).padStart(2, '0')}`);
    return reply;
  }
  cont(): void {
    this.sock.write('$c#63');
  }
  interrupt(): Promise<string> {
    const reply = this.next();
    this.sock.write('\x03');
    return reply;
  }
  async rip(): Promise<number> {
    // 'g': rax..r15 (16 x 8 bytes), then rip, as hex in target byte order.
    const hex = await this.request('g');
    if (hex.length < 272) throw new Error(`g answered ${hex}`);
    return Number(Buffer.from(hex.slice(256, 272), 'hex').readBigUInt64LE(0));
  }
  close(): void {
    this.sock.destroy();
  }
}

async function main(): Promise<void> {
  const name = WHAT === 'http' ? 'http-static' : WHAT === 'dns' ? 'dns' : 'kv';
  const settings: Record<string, unknown> = {
    ipv4_mode: 'static',
    ipv4_address: `${APP}/24`,
    ipv4_gateway: '10.77.0.1',
    ...(name === 'kv'
      ? { port: 6379, persist: false }
      : name === 'dns'
        ? { port: 53, ...(await dnsZoneConfig(TEST_ZONE)) }
        : { port: 80 }),
  };
  const { compileAppliance } = await import('../build/compile-as.ts');
  const extra = templateAssets(name, { siteDir: testSite() });
  const r = await compileAppliance({
    entry: join(TEMPLATES, name, 'main.ts'),
    optimize: true,
    extraSources: extra,
    debugNames: true,
  });
  if (r.wasm.length === 0) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const names = wasmNames(r.wasm);
  const { blob } = compileWasm(r.wasm);
  const image = linkImage({
    baseElf: readFileSync(BASE_IMAGE),
    blob,
    config: new TextEncoder().encode(JSON.stringify(settings)),
  });
  const dir = mkdtempSync(join(tmpdir(), 'kiln-profile-'));
  const path = join(dir, `${name}.elf`);
  writeFileSync(path, image);
  // kiln-base.elf ships stripped: link the same objects in the same order once more, keeping symbols.
  const baseSyms = join(dir, 'base-symbols.elf');
  execFileSync('make', [
    '-s',
    '-C',
    join(TEMPLATES, '..', '..', 'kernel'),
    '--eval',
    'kiln-syms: $(BASE_OBJS) $(RT_OBJS); @$(LD) $(LDFLAGS) -T $(BASE)/linker.ld -o $(OUT) $(BASE_OBJS) $(RT_OBJS)',
    'kiln-syms',
    `OUT=${baseSyms}`,
  ]);
  const syms = symbols(image, blob, names, baseSyms);
  console.error(`${names.size} named functions; image ${path}`);

  const n = createTapNetns('prof');
  // A Unix socket: QEMU runs inside the namespace, whose loopback the profiler cannot reach.
  const sock = join(dir, 'gdb.sock');
  const vm = bootVm(n.ns, n.tap, { accel: defaultAccel(), memoryMiB: 128 }, { kernel: path }, [
    '-chardev',
    `socket,id=gdb0,path=${sock},server=on,wait=off`,
    '-gdb',
    'chardev:gdb0',
  ]);
  try {
    await vm.waitFor('kiln: ready', 240_000);
    const counts = new Map<string, number>();
    let total = 0;
    let stopSampling = false;
    const load =
      WHAT === 'kv'
        ? redisBenchmark(n, APP, 6379, 800 * SECONDS).then((x) => `SET ${x.set} GET ${x.get} ops/s`)
        : WHAT === 'dns'
          ? dnsperf(n, writeQueries(dir), APP, 53, SECONDS).then((x) => `${x.qps} q/s (${x.codes})`)
          : wrk(n, `http://${APP}/index.html`, SECONDS).then((x) => `${x.rps} req/s`);
    // Caught at once: a rejection left pending while the load runs would end the process
    // without the `finally` below, and leave QEMU and the namespace behind.
    let failure: unknown = null;
    const sampler = (async () => {
      const gdb = await Gdb.open(sock);
      await gdb.request('?');
      gdb.cont();
      while (!stopSampling) {
        await new Promise((res) => setTimeout(res, 1000 / HZ));
        const why = await gdb.interrupt();
        if (!why.startsWith('T') && !why.startsWith('S')) throw new Error(`stop answered ${why}`);
        const at = await gdb.rip();
        const f = lookup(syms, at);
        counts.set(f, (counts.get(f) ?? 0) + 1);
        total++;
        gdb.cont();
      }
      gdb.close();
    })().catch((e: unknown) => {
      stopSampling = true;
      failure = e;
    });
    const result = await load;
    stopSampling = true;
    await sampler;
    if (failure !== null)
      throw new Error(
        `${failure instanceof Error ? failure.message : String(failure)}\n${vm.output().slice(-3000)}`,
      );
    console.log(`${name} under load while sampling at ${HZ} Hz: ${result}; ${total} samples`);
    const sorted = [...counts].sort((a, b) => b[1] - a[1]);
    for (const [f, c] of sorted.slice(0, 60))
      console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${String(c).padStart(5)}  ${f}`);
  } finally {
    await vm.stop();
    n.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
