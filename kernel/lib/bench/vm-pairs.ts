// The VM pairs of `npm run bench:net`: each appliance image, built by the real pipeline
// (app/build), boots under QEMU on one namespace's TAP, and Debian's kernel with the matching
// server in a small initramfs boots on the very same QEMU settings (vm.ts) and address in a
// second namespace; both stay up, and the same client measures them alternately, `rounds` times
// (appliance, peer, appliance, peer, ...), so a change in the machine's load (it is shared)
// hits both sides alike. Each row is the median of its rounds, the ratio the median of the
// per-round ratios. Memory is the QEMU process's resident set after the runs (guest RAM touched
// plus QEMU's own, the same overhead on both sides).
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
import { median } from './stats.ts';

export interface Row {
  what: string;
  server: string;
  value: number;
  unit: string;
  extra?: string;
  /** per-round figures (VM pairs), in measuring order */
  rounds?: number[];
}

export type Template = 'http-static' | 'dns' | 'kv' | 'hello';

export interface VmContext {
  /** the appliance's namespace */
  n: TapNetns;
  /** the Linux peer's namespace (same addresses) */
  peerNs: TapNetns;
  rounds: number;
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

interface Side {
  label: string;
  server: string;
  n: TapNetns;
  boot: { kernel: string; initrd?: string; append?: string };
  ready: (vm: VmHandle, n: TapNetns) => Promise<void>;
}

/** One measurement of a side: the figures by row name (`what`) and their notes. */
type Measure = (n: TapNetns) => Promise<Array<{ what: string; value: number; unit: string; extra?: string }>>;

/**
 * Boots both sides (each in its namespace), then measures them alternately `ctx.rounds` times.
 * A side that fails to boot or answer leaves a FAILED note and no rows.
 */
async function pair(ctx: VmContext, sides: [Side, Side], measure: Measure): Promise<void> {
  const vms: VmHandle[] = [];
  try {
    const t0 = performance.now();
    for (const s of sides) {
      ctx.log(`${s.label}: booting`);
      vms.push(bootVm(s.n.ns, s.n.tap, ctx.vm, s.boot));
    }
    await Promise.all(
      sides.map(async (s, i) => {
        await s.ready(vms[i]!, s.n);
        ctx.log(`${s.label}: up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }),
    );
    const got: Array<Map<string, { values: number[]; unit: string; extra?: string }>> = [
      new Map(),
      new Map(),
    ];
    const cpu = [0, 0];
    const wall = [0, 0];
    for (let r = 0; r < ctx.rounds; r++) {
      for (let i = 0; i < 2; i++) {
        const c0 = vms[i]!.cpuSeconds();
        const w0 = performance.now();
        for (const m of await measure(sides[i]!.n)) {
          const e = got[i]!.get(m.what) ?? { values: [], unit: m.unit };
          e.values.push(m.value);
          e.extra = m.extra;
          got[i]!.set(m.what, e);
        }
        cpu[i]! += vms[i]!.cpuSeconds() - c0;
        wall[i]! += (performance.now() - w0) / 1000;
        ctx.log(
          `round ${r + 1}/${ctx.rounds} ${sides[i]!.label}: ${[...got[i]!].map(([w, e]) => `${w} ${e.values.at(-1)!.toFixed(0)}`).join(', ')}`,
        );
      }
    }
    for (let i = 0; i < 2; i++) {
      for (const [what, e] of got[i]!) {
        const round = e.values.map((v) => v.toFixed(0)).join(', ');
        ctx.rows.push({
          what,
          server: sides[i]!.server,
          value: median(e.values),
          unit: e.unit,
          extra: `median of ${round}${e.extra ? `; last: ${e.extra}` : ''}`,
          rounds: e.values,
        });
      }
      ctx.notes.push(
        `${sides[i]!.label}: QEMU resident ${MiB(vms[i]!.rssBytes())} after the runs; QEMU CPU ${(cpu[i]! / wall[i]!).toFixed(2)} s per s during them`,
      );
    }
  } catch (e) {
    ctx.notes.push(
      `${sides.map((s) => s.label).join(' / ')}: FAILED: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    );
    ctx.log(
      `failed: ${e instanceof Error ? e.message : String(e)}\n${vms.map((v) => v.output().slice(-1500)).join('\n---\n')}`,
    );
  } finally {
    await Promise.all(vms.map((v) => v.stop()));
  }
}

function applianceSide(ctx: VmContext, label: string, server: string, image: BuildArtefact): Side {
  return {
    label,
    server,
    n: ctx.n,
    boot: { kernel: image.path },
    ready: (vm) => vm.waitFor('kiln: ready', READY_MS),
  };
}

async function linuxSide(
  ctx: VmContext,
  label: string,
  server: string,
  spec: PeerSpec,
  ready: (n: TapNetns) => Promise<void>,
): Promise<Side> {
  const k = debianKernel(ctx.log);
  const initrd = peerInitramfs(k, spec, `${ctx.address}/24`, ctx.gateway, ctx.log);
  return {
    label,
    server,
    n: ctx.peerNs,
    boot: { kernel: k.vmlinuz, initrd, append: linuxAppend(readFileSync('/proc/cpuinfo', 'utf8')) },
    ready: (_vm, n) => ready(n),
  };
}

const READY_MS = 240_000;

export async function vmHttp(ctx: VmContext, image: BuildArtefact): Promise<void> {
  const url = `http://${ctx.address}/index.html`;
  await pair(
    ctx,
    [
      applianceSide(ctx, 'http-static VM', 'http-static (VM)', image),
      await linuxSide(ctx, 'nginx Linux VM', 'nginx (Linux VM, 1 worker)', nginxPeer(INDEX_HTML), (n) =>
        waitService(n, ctx.address, 80),
      ),
    ],
    async (n) => {
      const r = await wrk(n, url, ctx.seconds);
      const extra = `avg latency ${r.latency}${r.problems ? `; ${r.problems}` : ''}`;
      return [{ what: 'HTTP GET 1 KiB', value: r.rps, unit: 'req/s', extra }];
    },
  );
}

export async function vmDns(ctx: VmContext, image: BuildArtefact): Promise<void> {
  await pair(
    ctx,
    [
      applianceSide(ctx, 'dns VM', 'dns (VM)', image),
      await linuxSide(ctx, 'NSD Linux VM', 'NSD (Linux VM, 1 server)', nsdPeer(TEST_ZONE), (n) =>
        waitService(n, ctx.address, 53, true),
      ),
    ],
    async (n) => {
      const r = await dnsperf(n, ctx.queries, ctx.address, 53, ctx.seconds);
      return [{ what: 'DNS queries (UDP)', value: r.qps, unit: 'q/s', extra: `${r.codes}; lost ${r.lost}` }];
    },
  );
}

export async function vmKv(ctx: VmContext, image: BuildArtefact): Promise<void> {
  await pair(
    ctx,
    [
      applianceSide(ctx, 'kv VM', 'kv (VM)', image),
      await linuxSide(ctx, 'redis Linux VM', 'redis-server (Linux VM)', redisPeer(), (n) =>
        waitService(n, ctx.address, 6379),
      ),
    ],
    async (n) => {
      const r = await redisBenchmark(n, ctx.address, 6379, 1000 * ctx.seconds);
      return [
        { what: 'KV SET', value: r.set, unit: 'ops/s' },
        { what: 'KV GET', value: r.get, unit: 'ops/s' },
      ];
    },
  );
}
