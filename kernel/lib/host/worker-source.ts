// Source of the worker thread that runs an appliance's Wasm (kept as a plain-JS string so it runs
// the same under tsx, esbuild bundles and Electron: `new Worker(WORKER_SOURCE, { eval: true })`).
// It implements every kiln.* import of kernel/ABI.md section 1 plus env.abort.
//  - rx frames arrive in one SharedArrayBuffer ring per NIC, filled by the main thread;
//  - yield sleeps in Atomics.wait on a shared wake word (no busy waiting);
//  - tx frames and console bytes are posted to the main thread.

export const RING_SLOTS = 1024;
export const SLOT_BYTES = 1536; // u32 length + up to 1532 bytes of frame (MTU 1500 + 14)
export const MTU = 1500;

export const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { wasm, args, config, nics, disks, wakeSab, statsSab } = workerData;
const SLOTS = ${RING_SLOTS}, SLOT = ${SLOT_BYTES}, MTU = ${MTU};
const OK = 0, AGAIN = 1, EINVAL = 2, EUNSPEC = 3;
const wake = new Int32Array(wakeSab);
const statsReq = new Int32Array(statsSab);
const rings = nics.map((n) => ({ ctrl: new Int32Array(n.ctrlSab), data: new Uint8Array(n.dataSab), mac: n.mac }));
const diskFds = disks.map((p) => fs.openSync(p, 'r+'));
const diskSizes = diskFds.map((fd) => fs.fstatSync(fd).size);
const enc = new TextEncoder();
const argsBytes = enc.encode(args);
const configBytes = enc.encode(config);
const t0 = process.hrtime.bigint();
let statsSeen = 0;
let memory = null;
let instance = null;
class Exit { constructor(status) { this.status = status; } }

function mem() { return new Uint8Array(memory.buffer); }
function inside(ptr, len) { return ptr >= 0 && len >= 0 && ptr + len <= memory.buffer.byteLength; }
function readySet() {
  let set = 0n;
  for (let h = 0; h < rings.length && h < 63; h++) {
    const c = rings[h].ctrl;
    if (Atomics.load(c, 0) !== Atomics.load(c, 1)) set |= 1n << BigInt(h);
  }
  return set;
}
function serveStats() {
  const want = Atomics.load(statsReq, 0);
  if (want === statsSeen) return;
  statsSeen = want;
  let values = [];
  const fn = instance.exports.kiln_stats;
  if (typeof fn === 'function') {
    const ptr = fn() >>> 0;
    const dv = new DataView(memory.buffer);
    const n = dv.getUint32(ptr, true);
    for (let i = 0; i < n && i < 64; i++) values.push(dv.getUint32(ptr + 4 + 4 * i, true));
  }
  parentPort.postMessage({ t: 'stats', seq: want, values, memoryBytes: memory.buffer.byteLength });
}
function asString(ptr) {
  if (!ptr || !inside(ptr - 4, 4)) return '';
  const len = new DataView(memory.buffer).getUint32(ptr - 4, true);
  if (!inside(ptr, len)) return '';
  return Buffer.from(memory.buffer, ptr, len).toString('utf16le');
}

const kiln = {
  console_write(ptr, len) {
    if (!inside(ptr, len)) return EINVAL;
    parentPort.postMessage({ t: 'console', data: mem().slice(ptr, ptr + len) });
    return OK;
  },
  clock_monotonic() { return process.hrtime.bigint() - t0; },
  clock_wall() { return BigInt(Date.now()) * 1000000n; },
  yield(deadline) {
    for (;;) {
      serveStats();
      const seq = Atomics.load(wake, 0);
      const ready = readySet();
      if (ready !== 0n) return ready;
      const now = process.hrtime.bigint() - t0;
      if (now >= deadline) return 0n;
      const ms = Number(deadline - now) / 1e6;
      Atomics.wait(wake, 0, seq, Math.min(ms, 2 ** 31));
    }
  },
  net_count() { return rings.length; },
  net_info(h, out) {
    if (h < 0 || h >= rings.length || !inside(out, 12)) return EINVAL;
    const m = mem();
    m.set(rings[h].mac, out);
    m[out + 6] = 0; m[out + 7] = 0;
    new DataView(memory.buffer).setUint32(out + 8, MTU, true);
    return OK;
  },
  net_read(h, buf, size, lenOut) {
    if (h < 0 || h >= rings.length || !inside(buf, size) || !inside(lenOut, 4)) return EINVAL;
    if (size < MTU + 14) return EINVAL;
    const r = rings[h];
    const head = Atomics.load(r.ctrl, 0), tail = Atomics.load(r.ctrl, 1);
    if (head === tail) return AGAIN;
    const off = (tail % SLOTS) * SLOT;
    const len = new DataView(r.data.buffer).getUint32(off, true);
    const n = Math.min(len, size);
    mem().set(r.data.subarray(off + 4, off + 4 + n), buf);
    new DataView(memory.buffer).setUint32(lenOut, n, true);
    Atomics.store(r.ctrl, 1, tail + 1);
    return OK;
  },
  net_write(h, buf, len) {
    if (h < 0 || h >= rings.length || !inside(buf, len) || len < 14 || len > MTU + 14) return EINVAL;
    parentPort.postMessage({ t: 'tx', h, frame: mem().slice(buf, buf + len) });
    return OK;
  },
  block_count() { return diskFds.length; },
  block_info(h, out) {
    if (h < 0 || h >= diskFds.length || !inside(out, 16)) return EINVAL;
    const dv = new DataView(memory.buffer);
    dv.setBigUint64(out, BigInt(diskSizes[h]), true);
    dv.setBigUint64(out + 8, 512n, true);
    return OK;
  },
  block_read(h, offset, buf, len) {
    const o = Number(offset);
    if (h < 0 || h >= diskFds.length || !inside(buf, len) || o < 0 || o % 512 || len % 512 || o + len > diskSizes[h]) return EINVAL;
    try { fs.readSync(diskFds[h], mem(), buf, len, o); return OK; } catch { return EUNSPEC; }
  },
  block_write(h, offset, buf, len) {
    const o = Number(offset);
    if (h < 0 || h >= diskFds.length || !inside(buf, len) || o < 0 || o % 512 || len % 512 || o + len > diskSizes[h]) return EINVAL;
    try { fs.writeSync(diskFds[h], mem(), buf, len, o); return OK; } catch { return EUNSPEC; }
  },
  args_get(buf, size) {
    if (!inside(buf, size)) return EINVAL;
    mem().set(argsBytes.subarray(0, size), buf);
    return argsBytes.length;
  },
  config_get(buf, size) {
    if (!inside(buf, size)) return EINVAL;
    mem().set(configBytes.subarray(0, size), buf);
    return configBytes.length;
  },
  random_get(buf, len) {
    if (!inside(buf, len)) return EINVAL;
    crypto.randomFillSync(mem(), buf, len);
    return OK;
  },
  exit(status) { throw new Exit(status | 0); },
};
const env = {
  abort(msg, file, line, col) {
    const text = 'abort: ' + asString(msg) + ' at ' + asString(file) + ':' + line + ':' + col + '\n';
    parentPort.postMessage({ t: 'console', data: enc.encode(text) });
    throw new Exit(3);
  },
};

let status = 0, error;
try {
  const mod = new WebAssembly.Module(wasm);
  instance = new WebAssembly.Instance(mod, { kiln, env });
  memory = instance.exports.memory;
  status = instance.exports.main() | 0;
} catch (e) {
  if (e instanceof Exit) status = e.status;
  else { status = 4; error = String(e && e.stack || e); }
}
for (const fd of diskFds) fs.closeSync(fd);
parentPort.postMessage({ t: 'exit', status, error });
`;
