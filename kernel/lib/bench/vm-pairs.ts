// The VM pairs of `npm run bench:net`: each appliance image, built by the real pipeline
// (app/build), boots under QEMU on the namespace's TAP, and then Debian's kernel with the
// matching server in a small initramfs boots on the very same QEMU settings (vm.ts) and address;
// the same client measures both from the namespace. Memory is the QEMU process's resident set
// after the run (guest RAM touched plus QEMU's own, the same overhead on both sides).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundledBuilder } from '../../../app/build/bundled-builder.ts';
import { request } from '../../../app/build/testing.ts';
import type { BuildArtefact } from '../../../app/build/types.ts';
import { sizeLines } from '../../../app/build/bench/size-goals.ts';
import type { TapNetns } from '../host/netns.ts';
import { dnsperf, redisBenchmark, waitService, wrk } from './clients.ts';
import { INDEX_HTML, TEST_ZONE, testSite } from './fixtures.ts';
import { cacheDir, debianKernel, linuxAppend, peerInitramfs, type PeerSpec } from './linux-peer.ts';
import { nginxPeer, nsdPeer, redisPeer } from './peer-specs.ts';
import { bootVm, type VmHandle, type VmSettings } from './vm.ts';

export interface Row {
  what: string;
  server: string;
  value: number;
  unit: string;
  extra?: string;
}

export type Template = 'http-static' | 'dns' | 'kv' | 'hello';

export interface VmContext {
  n: TapNetns;
  vm: VmSettings;
  seconds: number;
  queries: string;
  address: string;
  gateway: string;
  rows: Row[];
  notes: string[];
  log: (s: string) => void;
}

const MiB = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
const KiB = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/** Builds the templates through the bundled builder, cached across runs under cacheDir(). */
export async function buildImages(
  templates: Template[],
  address: string,
  gateway: string,
  log: (s: string) => void,
): Promise<Map<Template, BuildArtefact>> {
  const net = { ipv4_mode: 'static', ipv4_address: address, ipv4_gateway: gateway };
  const settings: Record<Template, Record<string, unknown>> = {
    'http-static': { ...net, site: testSite() },
    dns: { ...net, zone_text: TEST_ZONE },
    kv: { ...net, persist: false },
    hello: {},
  };
  const builder = new BundledBuilder();
  const out = new Map<Template, BuildArtefact>();
  try {
    for (const t of templates) {
      const t0 = performance.now();
      const a = await builder.build(request(join(cacheDir(), 'build'), t, settings[t]));
      log(
        `built ${t}: ${KiB(a.size)}${a.cached ? ' (cache)' : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      out.set(t, a);
    }
  } finally {
    await builder.close();
  }
  return out;
}

export function sizeNotes(images: Map<Template, BuildArtefact>): string[] {
  return [...images].flatMap(([t, a]) => sizeLines(t, a));
}

async function withVm(
  ctx: VmContext,
  label: string,
  boot: { kernel: string; initrd?: string; append?: string },
  ready: (vm: VmHandle) => Promise<void>,
  body: () => Promise<void>,
): Promise<void> {
  const t0 = performance.now();
  ctx.log(`${label}: booting`);
  const vm = bootVm(ctx.n.ns, ctx.n.tap, ctx.vm, boot);
  try {
    await ready(vm);
    ctx.log(`${label}: up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const cpu0 = vm.cpuSeconds();
    const w0 = performance.now();
    await body();
    const cpu = vm.cpuSeconds() - cpu0;
    const wall = (performance.now() - w0) / 1000;
    ctx.notes.push(
      `${label}: QEMU resident ${MiB(vm.rssBytes())} after the run; QEMU CPU ${(cpu / wall).toFixed(2)} s per s during it`,
    );
  } catch (e) {
    ctx.notes.push(`${label}: FAILED: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    ctx.log(`${label} failed: ${e instanceof Error ? e.message : String(e)}\n${vm.output().slice(-2000)}`);
  } finally {
    await vm.stop();
  }
}

function applianceBoot(image: BuildArtefact): { kernel: string } {
  return { kernel: image.path };
}

async function linuxBoot(
  ctx: VmContext,
  spec: PeerSpec,
): Promise<{ kernel: string; initrd: string; append: string }> {
  const k = debianKernel(ctx.log);
  const initrd = peerInitramfs(k, spec, `${ctx.address}/24`, ctx.gateway, ctx.log);
  return { kernel: k.vmlinuz, initrd, append: linuxAppend(readFileSync('/proc/cpuinfo', 'utf8')) };
}

const READY_MS = 240_000;

export async function vmHttp(ctx: VmContext, image: BuildArtefact): Promise<void> {
  const url = `http://${ctx.address}/index.html`;
  const what = 'HTTP GET 1 KiB';
  const run = async (server: string): Promise<void> => {
    const r = await wrk(ctx.n, url, ctx.seconds);
    const extra = `avg latency ${r.latency}${r.problems ? `; ${r.problems}` : ''}`;
    ctx.rows.push({ what, server, value: r.rps, unit: 'req/s', extra });
  };
  await withVm(
    ctx,
    'http-static VM',
    applianceBoot(image),
    (vm) => vm.waitFor('kiln: ready', READY_MS),
    () => run('http-static (VM)'),
  );
  await withVm(
    ctx,
    'nginx Linux VM',
    await linuxBoot(ctx, nginxPeer(INDEX_HTML)),
    () => waitService(ctx.n, ctx.address, 80),
    () => run('nginx (Linux VM, 1 worker)'),
  );
}

export async function vmDns(ctx: VmContext, image: BuildArtefact): Promise<void> {
  const what = 'DNS queries (UDP)';
  const run = async (server: string): Promise<void> => {
    const r = await dnsperf(ctx.n, ctx.queries, ctx.address, 53, ctx.seconds);
    ctx.rows.push({ what, server, value: r.qps, unit: 'q/s', extra: `${r.codes}; lost ${r.lost}` });
  };
  await withVm(
    ctx,
    'dns VM',
    applianceBoot(image),
    (vm) => vm.waitFor('kiln: ready', READY_MS),
    () => run('dns (VM)'),
  );
  await withVm(
    ctx,
    'NSD Linux VM',
    await linuxBoot(ctx, nsdPeer(TEST_ZONE)),
    () => waitService(ctx.n, ctx.address, 53, true),
    () => run('NSD (Linux VM, 1 server)'),
  );
}

export async function vmKv(ctx: VmContext, image: BuildArtefact): Promise<void> {
  const run = async (server: string): Promise<void> => {
    const r = await redisBenchmark(ctx.n, ctx.address, 6379, 1000 * ctx.seconds);
    ctx.rows.push({ what: 'KV SET', server, value: r.set, unit: 'ops/s' });
    ctx.rows.push({ what: 'KV GET', server, value: r.get, unit: 'ops/s' });
  };
  await withVm(
    ctx,
    'kv VM',
    applianceBoot(image),
    (vm) => vm.waitFor('kiln: ready', READY_MS),
    () => run('kv (VM)'),
  );
  await withVm(
    ctx,
    'redis Linux VM',
    await linuxBoot(ctx, redisPeer()),
    () => waitService(ctx.n, ctx.address, 6379),
    () => run('redis-server (Linux VM)'),
  );
}
