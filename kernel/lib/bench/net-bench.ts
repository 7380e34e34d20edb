// `npm run bench:net`: the three protocol appliances against the native Linux servers they
// imitate, each pair measured in the same run, same machine, same client:
//   http-static vs nginx (wrk, requests/s), dns vs NSD (dnsperf, queries/s),
//   kv vs redis-server (redis-benchmark, ops/s),
// plus each template's Wasm size and memory. The appliances run under Node with our TCP/IP
// stack on a TAP in a network namespace; the peers run natively in the same namespace on its
// loopback. "engine" rows run the same protocol engine behind Linux's TCP (loopback harness),
// which separates the cost of the protocol code from the cost of the network stack.
// VM pairs: both VMs stay up (in two namespaces) and are measured alternately --rounds times.
// Options: --seconds N (per measurement, default 5), --only http|dns|kv, --rounds N (3),
// --no-vm, --no-node, --memory MiB.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, type ApplianceHandle } from '../host/appliance.ts';
import { canUseNetns, createTapNetns, type TapNetns } from '../host/netns.ts';
import { compileTemplate, dnsZoneConfig, templateAssets } from './templates.ts';
import { Engine, serveLoopback } from './loopback.ts';
import { TEST_ZONE, testSite } from './fixtures.ts';
import { dnsperf, parseWrk, redisBenchmark, waitService, wrk, writeQueries } from './clients.ts';
import {
  buildImages,
  sizeNotes,
  vmDns,
  vmHttp,
  vmKv,
  type Row,
  type Template,
  type VmContext,
} from './vm-pairs.ts';
import { defaultAccel } from '../../base/test/qemu-run.ts';
import { median } from './stats.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const SECONDS = Number(opt('seconds', '5'));
const ONLY = opt('only', '');
const VM = !args.includes('--no-vm');
const NODE = !args.includes('--no-node');
const MEMORY = Number(opt('memory', '128'));
const ROUNDS = Math.max(1, Number(opt('rounds', '3')));
const APP = '10.77.0.2';
const NET = { ipv4_mode: 'static', ipv4_address: `${APP}/24`, ipv4_gateway: '10.77.0.1' };

const rows: Row[] = [];
const sizes: string[] = [];

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function nsSpawn(n: TapNetns, cmd: string, a: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', n.ns, cmd, ...a], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 3000);
  });
}

async function boot(
  n: TapNetns,
  name: 'dns' | 'http-static' | 'kv',
  wasm: Uint8Array,
  config: object,
): Promise<ApplianceHandle> {
  const h = await startAppliance({
    wasm,
    config: { ...NET, ...config },
    nics: [{ tap: n.tap, netns: n.ns }],
  });
  await h.waitForOutput('kiln: ready', 60_000);
  sizes.push(`${name}: Wasm ${(wasm.length / 1024).toFixed(1)} KiB`);
  return h;
}

async function memoryOf(h: ApplianceHandle, name: string): Promise<void> {
  try {
    const s = await h.stats(5000);
    sizes.push(`${name}: linear memory after the run ${(s.memoryBytes / 1048576).toFixed(1)} MiB`);
  } catch {
    /* stats are optional */
  }
}

// ---- HTTP ----

async function benchHttp(n: TapNetns, work: string): Promise<void> {
  const site = testSite(); // the appliance tests' site: one compile serves both
  const wasm = await compileTemplate('http-static', templateAssets('http-static', { siteDir: site }));
  log('http-static under Node');
  const h = await boot(n, 'http-static', wasm, { port: 80 });
  try {
    const r = await wrk(n, `http://${APP}/index.html`, SECONDS);
    rows.push({
      what: 'HTTP GET 1 KiB',
      server: 'http-static (kiln stack)',
      value: r.rps,
      unit: 'req/s',
      extra: `avg latency ${r.latency}${r.problems ? `; ${r.problems}` : ''}`,
    });
    await memoryOf(h, 'http-static');
  } finally {
    await h.stop();
  }
  const conf = join(work, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;\nevents { worker_connections 1024; }\nhttp { include /etc/nginx/mime.types; access_log off; client_body_temp_path ${work}; proxy_temp_path ${work}; fastcgi_temp_path ${work}; uwsgi_temp_path ${work}; scgi_temp_path ${work};\n server { listen 127.0.0.1:8080; root ${site}; } }\n`,
  );
  log('nginx native');
  const ng = nsSpawn(n, 'nginx', ['-c', conf, '-p', work]);
  try {
    await waitService(n, '127.0.0.1', 8080);
    const r = await wrk(n, 'http://127.0.0.1:8080/index.html', SECONDS);
    rows.push({
      what: 'HTTP GET 1 KiB',
      server: 'nginx (Linux, 1 worker)',
      value: r.rps,
      unit: 'req/s',
      extra: `avg latency ${r.latency}${r.problems ? `; ${r.problems}` : ''}`,
    });
  } finally {
    await stop(ng);
  }
  log('http engine behind Linux TCP');
  const e = await Engine.create('http');
  const { embedSite } = await import('../http/embed-site.ts');
  e.setup(embedSite(site).bundle);
  const lb = await serveLoopback(e);
  try {
    // asynchronous: the loopback server answers from this very process meanwhile
    const { stdout } = await promisify(execFile)(
      'wrk',
      ['-t1', '-c10', `-d${SECONDS}s`, `http://127.0.0.1:${lb.port}/index.html`],
      { encoding: 'utf8' },
    );
    rows.push({
      what: 'HTTP GET 1 KiB',
      server: 'http engine behind Linux TCP (Node)',
      value: parseWrk(stdout).rps,
      unit: 'req/s',
    });
  } finally {
    await lb.close();
  }
}

// ---- DNS ----

const ZONE = TEST_ZONE;

async function benchDns(n: TapNetns, work: string): Promise<void> {
  const queries = writeQueries(work);
  const perf = async (server: string, host: string, port: number): Promise<void> => {
    const r = await dnsperf(n, queries, host, port, SECONDS);
    rows.push({
      what: 'DNS queries (UDP)',
      server,
      value: r.qps,
      unit: 'q/s',
      extra: `${r.codes}; lost ${r.lost}`,
    });
  };
  const wasm = await compileTemplate('dns', {});
  log('dns under Node');
  const h = await boot(n, 'dns', wasm, { ...(await dnsZoneConfig(ZONE)), port: 53 });
  try {
    await perf('dns (kiln stack)', APP, 53);
    await memoryOf(h, 'dns');
  } finally {
    await h.stop();
  }
  const zf = join(work, 'example.test.zone');
  writeFileSync(zf, ZONE);
  const conf = join(work, 'nsd.conf');
  writeFileSync(
    conf,
    `server:\n  ip-address: 127.0.0.1\n  port: 5353\n  username: ""\n  chroot: ""\n  zonesdir: "${work}"\n  pidfile: "${work}/nsd.pid"\n  database: ""\n  xfrdfile: "${work}/xfrd.state"\n  zonelistfile: "${work}/zone.list"\n  server-count: 1\n  rrl-ratelimit: 0\n  verbosity: 0\nremote-control:\n  control-enable: no\nzone:\n  name: example.test\n  zonefile: "${zf}"\n`,
  );
  log('NSD native');
  const nsd = nsSpawn(n, 'nsd', ['-d', '-c', conf]);
  try {
    await waitService(n, '127.0.0.1', 5353, true);
    await perf('NSD (Linux, 1 server)', '127.0.0.1', 5353);
  } finally {
    await stop(nsd);
  }
}

// ---- KV ----

async function benchKv(n: TapNetns): Promise<void> {
  const rb = (host: string, port: number): Promise<{ set: number; get: number }> =>
    redisBenchmark(n, host, port, 4000 * SECONDS);
  const wasm = await compileTemplate('kv', templateAssets('kv'));
  log('kv under Node');
  const h = await boot(n, 'kv', wasm, { port: 6379, persist: false });
  try {
    const out = await rb(APP, 6379);
    rows.push({ what: 'KV SET', server: 'kv (kiln stack)', value: out.set, unit: 'ops/s' });
    rows.push({ what: 'KV GET', server: 'kv (kiln stack)', value: out.get, unit: 'ops/s' });
    await memoryOf(h, 'kv');
  } finally {
    await h.stop();
  }
  log('redis-server native');
  const rs = nsSpawn(n, 'redis-server', [
    '--port',
    '6390',
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
  ]);
  try {
    await waitService(n, '127.0.0.1', 6390);
    const out = await rb('127.0.0.1', 6390);
    rows.push({ what: 'KV SET', server: 'redis-server (Linux)', value: out.set, unit: 'ops/s' });
    rows.push({ what: 'KV GET', server: 'redis-server (Linux)', value: out.get, unit: 'ops/s' });
  } finally {
    await stop(rs);
  }
}

async function main(): Promise<void> {
  if (!canUseNetns()) {
    console.log('bench:net needs root (network namespaces and TAP devices); skipped');
    return;
  }
  const missing = ['wrk', 'nginx', 'dnsperf', 'nsd', 'redis-benchmark', 'redis-server', 'dig'].filter(
    (c) => !have(c),
  );
  if (missing.length > 0)
    console.log(
      `missing tools (scripts/system-packages.txt): ${missing.join(', ')}; their pairs are skipped`,
    );
  const work = mkdtempSync(join(tmpdir(), 'kiln-net-bench-'));
  const want = (p: string): boolean => !ONLY || ONLY === p;
  const notes: string[] = [];
  let images = new Map<Template, import('../../../app/build/types.ts').BuildArtefact>();
  if (VM) {
    const list: Template[] = [
      ...(want('http') ? (['http-static'] as const) : []),
      ...(want('dns') ? (['dns'] as const) : []),
      ...(want('kv') ? (['kv'] as const) : []),
      'hello',
    ];
    images = await buildImages(list, `${APP}/24`, '10.77.0.1', log);
  }
  const n = createTapNetns('bench');
  let peerNs: TapNetns | null = null;
  try {
    if (NODE) {
      if (want('http') && have('wrk') && have('nginx')) await benchHttp(n, work);
      if (want('dns') && have('dnsperf') && have('nsd')) await benchDns(n, work);
      if (want('kv') && have('redis-benchmark') && have('redis-server')) await benchKv(n);
    }
    if (VM) {
      peerNs = createTapNetns('bench-peer');
      const ctx: VmContext = {
        n,
        peerNs,
        rounds: ROUNDS,
        vm: { accel: defaultAccel(), memoryMiB: MEMORY },
        seconds: SECONDS,
        queries: writeQueries(work),
        address: APP,
        gateway: '10.77.0.1',
        rows,
        notes,
        log,
      };
      const http = images.get('http-static');
      const dns = images.get('dns');
      const kv = images.get('kv');
      if (http && have('wrk')) await vmHttp(ctx, http);
      if (dns && have('dnsperf')) await vmDns(ctx, dns);
      if (kv && have('redis-benchmark')) await vmKv(ctx, kv);
    }
  } finally {
    n.cleanup();
    peerNs?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
  const accel = defaultAccel();
  console.log(
    `\nbench:net (${SECONDS} s per measurement; load average at the end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${cpus().length} CPUs)` +
      `\n  Node rows: appliances under Node on a TAP, peers native in the same netns` +
      `\n  VM rows: QEMU microvm + qboot, ${accel.toUpperCase()}, ${MEMORY} MiB, 1 vCPU, virtio-net-device on the TAP, for both sides;` +
      ` both VMs up, measured alternately ${ROUNDS} times, median\n`,
  );
  for (const r of rows)
    console.log(
      `${r.what.padEnd(20)} ${r.server.padEnd(38)} ${r.value.toFixed(0).padStart(9)} ${r.unit}${r.extra ? `  (${r.extra})` : ''}`,
    );
  const ratios = (title: string, pairs: Array<[string, string, string]>): void => {
    const lines: string[] = [];
    for (const [what, a, b] of pairs) {
      const x = rows.find((r) => r.what === what && r.server === a);
      const y = rows.find((r) => r.what === what && r.server === b);
      if (!x || !y) continue;
      const rx = x.rounds;
      const ry = y.rounds;
      // Alternating rounds: the ratio of each round pairs measurements taken under the same load.
      const per = rx && ry && rx.length === ry.length ? rx.map((v, i) => v / ry[i]!) : null;
      const ratio = per ? median(per) : x.value / y.value;
      lines.push(
        `  ${what.padEnd(20)} ${x.value.toFixed(0).padStart(8)} / ${y.value.toFixed(0).padStart(8)} = ${ratio.toFixed(3)}` +
          (per ? `  (median of per-round ratios ${per.map((v) => v.toFixed(2)).join(', ')})` : ''),
      );
    }
    if (lines.length > 0) console.log(`\n${title}\n${lines.join('\n')}`);
  };
  ratios('ratios, Node (appliance under Node / native peer):', [
    ['HTTP GET 1 KiB', 'http-static (kiln stack)', 'nginx (Linux, 1 worker)'],
    ['DNS queries (UDP)', 'dns (kiln stack)', 'NSD (Linux, 1 server)'],
    ['KV SET', 'kv (kiln stack)', 'redis-server (Linux)'],
    ['KV GET', 'kv (kiln stack)', 'redis-server (Linux)'],
  ]);
  ratios('ratios, VM (appliance in a VM / Linux VM peer, identical QEMU settings; goal >= 1):', [
    ['HTTP GET 1 KiB', 'http-static (VM)', 'nginx (Linux VM, 1 worker)'],
    ['DNS queries (UDP)', 'dns (VM)', 'NSD (Linux VM, 1 server)'],
    ['KV SET', 'kv (VM)', 'redis-server (Linux VM)'],
    ['KV GET', 'kv (VM)', 'redis-server (Linux VM)'],
  ]);
  console.log('\nsizes and memory:');
  for (const s of [...sizes, ...sizeNotes(images), ...notes]) console.log(`  ${s}`);
}

function log(s: string): void {
  console.error(`[bench:net] ${s}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
