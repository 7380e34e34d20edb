// The Linux VM peers of `npm run bench:net`: Debian's own kernel booted on the same QEMU settings
// as the appliance, with a small initramfs holding busybox (static), one server (nginx, NSD or
// redis-server) with the shared libraries ldd names, its configuration, and an /init that loads
// the virtio-mmio and virtio-net modules, configures eth0 and execs the server.
// Debian's kernel comes from /boot when one with virtio_mmio exists, else `apt-get download`
// (its .deb is unpacked into the cache); busybox-static likewise. Initramfs images are cached by
// a hash of everything they contain, so reruns reuse them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioNewc, type CpioEntry } from './cpio.ts';

/** The files' time in the initramfs: fixed (reproducible) and not zero (NSD skips zone files not newer than the zone it has). */
const FILE_MTIME = 1_700_000_000;

export type PeerName = 'nginx' | 'nsd' | 'redis';

/** Modules that bring up virtio-net on microvm (virtio-mmio found through ACPI), in load order. */
export const NET_MODULES = ['virtio_ring', 'virtio', 'virtio_mmio', 'failover', 'net_failover', 'virtio_net'];

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'kiln', 'net-bench');
}

/** The shared objects `ldd` lists (resolved paths and the loader), without the vDSO. */
export function parseLdd(out: string): string[] {
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const arrow = /=>\s+(\/\S+)\s+\(/.exec(line);
    const loader = /^\s*(\/\S+)\s+\(0x/.exec(line);
    const p = arrow?.[1] ?? loader?.[1];
    if (p && !libs.includes(p)) libs.push(p);
  }
  return libs;
}

export interface LinuxKernel {
  version: string;
  vmlinuz: string;
  modulesDir: string;
}

function hasNetModules(modulesDir: string): boolean {
  return existsSync(join(modulesDir, 'kernel', 'drivers', 'virtio', 'virtio_mmio.ko'));
}

/** Debian's kernel: from /boot if installed with its modules, else downloaded into the cache. */
export function debianKernel(log: (s: string) => void): LinuxKernel {
  for (const f of existsSync('/boot') ? readdirSync('/boot') : []) {
    const m = /^vmlinuz-(.+-amd64)$/.exec(f);
    if (m && hasNetModules(`/lib/modules/${m[1]}`))
      return { version: m[1]!, vmlinuz: join('/boot', f), modulesDir: `/lib/modules/${m[1]}` };
  }
  const deps = execFileSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
  const pkg = /Depends:\s+(linux-image-[\d.]+-\d+-amd64)\b/.exec(deps)?.[1];
  if (!pkg) throw new Error(`apt-cache depends linux-image-amd64 named no kernel package:\n${deps}`);
  const version = pkg.slice('linux-image-'.length);
  const root = unpackDeb(pkg, log);
  const modulesDir = join(root, 'lib', 'modules', version);
  const vmlinuz = join(root, 'boot', `vmlinuz-${version}`);
  if (!existsSync(vmlinuz) || !hasNetModules(modulesDir))
    throw new Error(`${pkg} has no vmlinuz or no virtio_mmio module under ${root}`);
  return { version, vmlinuz, modulesDir };
}

/** `apt-get download` + `dpkg-deb -x` into the cache, once. Returns the unpacked root. */
function unpackDeb(pkg: string, log: (s: string) => void): string {
  const root = join(cacheDir(), 'debs', pkg);
  if (existsSync(join(root, '.done'))) return root;
  const dl = join(cacheDir(), 'debs', 'download');
  mkdirSync(dl, { recursive: true });
  log(`downloading ${pkg} (apt-get download) into ${dl}`);
  execFileSync('apt-get', ['download', pkg], { cwd: dl, stdio: 'pipe' });
  const deb = readdirSync(dl).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dl}`);
  mkdirSync(root, { recursive: true });
  execFileSync('dpkg-deb', ['-x', join(dl, deb), root], { stdio: 'pipe' });
  writeFileSync(join(root, '.done'), deb);
  return root;
}

/** Debian's static busybox (the dynamic one of package busybox would need its libraries). */
function busybox(log: (s: string) => void): string {
  return join(unpackDeb('busybox-static', log), 'bin', 'busybox');
}

export interface PeerSpec {
  name: PeerName;
  /** the server's command line inside the VM (binary first) */
  command: string[];
  /** extra files: path inside the VM -> contents */
  files: Record<string, string | Uint8Array>;
}

/** The /init script: modules, loopback + eth0 with a static address, then the server. */
export function initScript(spec: PeerSpec, address: string, gateway: string): string {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  return [
    '#!/bin/busybox sh',
    '/bin/busybox --install -s /bin',
    'export PATH=/bin:/usr/bin:/usr/sbin',
    'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null',
    ...NET_MODULES.map((m) => `insmod /lib/modules/${m}.ko || echo "peer: insmod ${m} failed"`),
    'ip link set lo up',
    'n=0; while ! ip link set eth0 up 2>/dev/null; do n=$((n+1)); [ $n -gt 100 ] && break; sleep 0.1; done',
    `ip addr add ${address} dev eth0`,
    `ip route add default via ${gateway}`,
    `echo "peer: ${spec.name} starting on ${address}"`,
    // a child, so the shell (PID 1) reaps the server's helpers and reports its exit
    `${spec.command.map(quote).join(' ')} &`,
    'wait',
    'echo "peer: server exited"',
    '',
  ].join('\n');
}

function addParents(entries: CpioEntry[], dirs: Set<string>, path: string): void {
  const parent = dirname(path);
  if (parent === '/' || dirs.has(parent)) return;
  addParents(entries, dirs, parent);
  dirs.add(parent);
  entries.push({ kind: 'dir', path: parent });
}

/**
 * The gzipped initramfs for a peer, cached under cacheDir() by a hash of its contents.
 * Returns its path.
 */
export function peerInitramfs(
  kernel: LinuxKernel,
  spec: PeerSpec,
  address: string,
  gateway: string,
  log: (s: string) => void,
): string {
  const bin = spec.command[0]!;
  const files = new Map<string, Uint8Array>(); // path in the VM -> bytes
  const modes = new Map<string, number>();
  const addHost = (vmPath: string, hostPath: string, mode = 0o755): void => {
    files.set(vmPath, readFileSync(realpathSync(hostPath)));
    modes.set(vmPath, mode);
  };
  addHost('/bin/busybox', busybox(log));
  addHost(bin, bin); // a symlinked binary (redis-server) is copied under the name it runs as
  for (const lib of parseLdd(execFileSync('ldd', [bin], { encoding: 'utf8' }))) addHost(lib, lib);
  for (const m of NET_MODULES) {
    const found = execFileSync('find', [kernel.modulesDir, '-name', `${m}.ko`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    if (found.length !== 1)
      throw new Error(`module ${m}.ko: found ${found.length} under ${kernel.modulesDir}`);
    addHost(`/lib/modules/${m}.ko`, found[0]!, 0o644);
  }
  for (const [p, c] of Object.entries(spec.files)) {
    files.set(p, typeof c === 'string' ? Buffer.from(c) : c);
    modes.set(p, 0o644);
  }
  files.set('/init', Buffer.from(initScript(spec, address, gateway)));
  modes.set('/init', 0o755);

  const h = createHash('sha256').update(`${kernel.version} ${FILE_MTIME}`);
  const paths = [...files.keys()].sort();
  for (const p of paths)
    h.update(p)
      .update(files.get(p)!)
      .update(String(modes.get(p)));
  const key = h.digest('hex').slice(0, 20);
  const out = join(cacheDir(), 'initramfs', `${spec.name}-${key}.cpio.gz`);
  if (existsSync(out)) return out;

  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  for (const d of ['/bin', '/dev', '/proc', '/sys', '/tmp', '/etc', '/var/log/nginx', '/run']) {
    addParents(entries, dirs, `${d}/x`);
  }
  entries.push({ kind: 'chardev', path: '/dev/console', major: 5, minor: 1 });
  entries.push({ kind: 'chardev', path: '/dev/null', major: 1, minor: 3, mode: 0o666 });
  for (const p of paths) {
    addParents(entries, dirs, p);
    entries.push({ kind: 'file', path: p, data: files.get(p)!, mode: modes.get(p) });
  }
  mkdirSync(dirname(out), { recursive: true });
  const gz = gzipSync(cpioNewc(entries, FILE_MTIME), { level: 6 });
  writeFileSync(`${out}.${process.pid}`, gz);
  renameSync(`${out}.${process.pid}`, out);
  log(`initramfs ${basename(out)}: ${(gz.length / 1048576).toFixed(1)} MiB (${paths.length} files)`);
  return out;
}

/** Size of a file in bytes (for the report). */
export function fileBytes(p: string): number {
  return statSync(p).size;
}

/**
 * The Linux kernel's command line. Under TCG the microvm machine gives Linux no reference to
 * calibrate the TSC against (no HPET or PM timer), and boot stalls: the host's TSC rate, which
 * TCG's guest TSC runs at, is passed in as tsc_early_khz.
 */
export function linuxAppend(cpuinfo: string): string {
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? NaN);
  const tsc = Number.isFinite(mhz) ? ` tsc_early_khz=${Math.round(mhz * 1000)}` : '';
  return `console=ttyS0 panic=-1 quiet${tsc}`;
}
