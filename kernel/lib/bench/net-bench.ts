// `npm run bench:net`: the three protocol appliances against the native Linux servers they
// imitate, each pair measured in the same run, same machine, same client:
//   http-static vs nginx (wrk, requests/s), dns vs NSD (dnsperf, queries/s),
//   kv vs redis-server (redis-benchmark, ops/s),
// plus each template's Wasm size and memory. The appliances run under Node with our TCP/IP
// stack on a TAP in a network namespace; the peers run natively in the same namespace on its
// loopback. "engine" rows run the same protocol engine behind Linux's TCP (loopback harness),
// which separates the cost of the protocol code from the cost of the network stack.
// Options: --seconds N (per measurement, default 5), --only http|dns|kv.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, type ApplianceHandle } from '../host/appliance.ts';
import { canUseNetns, createTapNetns, type TapNetns } from '../host/netns.ts';
import { compileTemplate, templateAssets } from './templates.ts';
import { Engine, serveLoopback } from './loopback.ts';
import { TEST_ZONE, testSite } from './fixtures.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const SECONDS = Number(opt('seconds', '5'));
const ONLY = opt('only', '');
const APP = '10.77.0.2';
const NET = { ipv4_mode: 'static', ipv4_address: `${APP}/24`, ipv4_gateway: '10.77.0.1' };

interface Row {
  what: string;
  server: string;
  value: number;
  unit: string;
  extra?: string;
}
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

function nsExec(n: TapNetns, cmd: string, a: string[], timeoutMs = 120_000): Promise<string> {
  return n.exec(cmd, a, { timeoutMs }).then((r) => r.stdout + r.stderr);
}

function nsSpawn(n: TapNetns, cmd: string, a: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', n.ns, cmd, ...a], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitPort(n: TapNetns, host: string, port: number, udp = false): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await n.exec(
        'bash', // /dev/tcp is a bash feature
        [
          '-c',
          udp
            ? `dig +time=1 +tries=1 @${host} -p ${port} example.test SOA >/dev/null`
            : `exec 3<>/dev/tcp/${host}/${port}`,
        ],
        { timeoutMs: 3000 },
      );
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${host}:${port} never answered`);
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

function wrkRps(out: string): { rps: number; latency: string } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const latency = /Latency\s+(\S+)/.exec(out)?.[1] ?? '?';
  return { rps, latency };
}

async function benchHttp(n: TapNetns, work: string): Promise<void> {
  const site = testSite(); // the appliance tests' site: one compile serves both
  const wasm = await compileTemplate('http-static', templateAssets('http-static', { siteDir: site }));
  const wrk = (url: string): Promise<string> =>
    nsExec(n, 'wrk', ['-t1', '-c10', `-d${SECONDS}s`, '--latency', url]);
  const h = await boot(n, 'http-static', wasm, { port: 80 });
  try {
    const r = wrkRps(await wrk(`http://${APP}/index.html`));
    rows.push({
      what: 'HTTP GET 1 KiB',
      server: 'http-static (kiln stack)',
      value: r.rps,
      unit: 'req/s',
      extra: `avg latency ${r.latency}`,
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
  const ng = nsSpawn(n, 'nginx', ['-c', conf, '-p', work]);
  try {
    await waitPort(n, '127.0.0.1', 8080);
    const r = wrkRps(await wrk('http://127.0.0.1:8080/index.html'));
    rows.push({
      what: 'HTTP GET 1 KiB',
      server: 'nginx (Linux, 1 worker)',
      value: r.rps,
      unit: 'req/s',
      extra: `avg latency ${r.latency}`,
    });
  } finally {
    await stop(ng);
  }
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
      value: wrkRps(stdout).rps,
      unit: 'req/s',
    });
  } finally {
    await lb.close();
  }
}

// ---- DNS ----

const ZONE = TEST_ZONE;

function qps(out: string): number {
  return Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
}

async function benchDns(n: TapNetns, work: string): Promise<void> {
  const queries = join(work, 'queries.txt');
  writeFileSync(
    queries,
    [
      'web.example.test A',
      'example.test MX',
      'web.example.test AAAA',
      'nope.example.test A',
      'example.test SOA',
    ].join('\n') + '\n',
  );
  const dnsperf = (server: string, port: number): Promise<string> =>
    nsExec(n, 'dnsperf', [
      '-s',
      server,
      '-p',
      String(port),
      '-d',
      queries,
      '-l',
      String(SECONDS),
      '-c',
      '4',
      '-q',
      '64',
    ]);
  const wasm = await compileTemplate('dns', templateAssets('dns', { zoneText: ZONE }));
  const h = await boot(n, 'dns', wasm, { zone_text: '', origin: '', port: 53 });
  try {
    rows.push({
      what: 'DNS queries (UDP)',
      server: 'dns (kiln stack)',
      value: qps(await dnsperf(APP, 53)),
      unit: 'q/s',
    });
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
  const nsd = nsSpawn(n, 'nsd', ['-d', '-c', conf]);
  try {
    await waitPort(n, '127.0.0.1', 5353, true);
    rows.push({
      what: 'DNS queries (UDP)',
      server: 'NSD (Linux, 1 server)',
      value: qps(await dnsperf('127.0.0.1', 5353)),
      unit: 'q/s',
    });
  } finally {
    await stop(nsd);
  }
}

// ---- KV ----

function opsOf(out: string, test: string): number {
  return Number(new RegExp(`${test}: ([\\d.]+) requests per second`).exec(out)?.[1] ?? NaN);
}

async function benchKv(n: TapNetns): Promise<void> {
  const rb = (host: string, port: number): Promise<string> =>
    nsExec(n, 'redis-benchmark', [
      '-h',
      host,
      '-p',
      String(port),
      '-n',
      String(4000 * SECONDS),
      '-c',
      '20',
      '-t',
      'set,get',
      '-q',
    ]);
  const wasm = await compileTemplate('kv', templateAssets('kv'));
  const h = await boot(n, 'kv', wasm, { port: 6379, persist: false });
  try {
    const out = await rb(APP, 6379);
    rows.push({ what: 'KV SET', server: 'kv (kiln stack)', value: opsOf(out, 'SET'), unit: 'ops/s' });
    rows.push({ what: 'KV GET', server: 'kv (kiln stack)', value: opsOf(out, 'GET'), unit: 'ops/s' });
    await memoryOf(h, 'kv');
  } finally {
    await h.stop();
  }
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
    await waitPort(n, '127.0.0.1', 6390);
    const out = await rb('127.0.0.1', 6390);
    rows.push({ what: 'KV SET', server: 'redis-server (Linux)', value: opsOf(out, 'SET'), unit: 'ops/s' });
    rows.push({ what: 'KV GET', server: 'redis-server (Linux)', value: opsOf(out, 'GET'), unit: 'ops/s' });
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
  const n = createTapNetns('bench');
  try {
    if ((!ONLY || ONLY === 'http') && have('wrk') && have('nginx')) await benchHttp(n, work);
    if ((!ONLY || ONLY === 'dns') && have('dnsperf') && have('nsd')) await benchDns(n, work);
    if ((!ONLY || ONLY === 'kv') && have('redis-benchmark') && have('redis-server')) await benchKv(n);
  } finally {
    n.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `\nbench:net (${SECONDS} s per measurement; appliances under Node on a TAP, peers native in the same netns)\n`,
  );
  for (const r of rows)
    console.log(
      `${r.what.padEnd(20)} ${r.server.padEnd(38)} ${r.value.toFixed(0).padStart(9)} ${r.unit}${r.extra ? `  (${r.extra})` : ''}`,
    );
  console.log('\nratios (appliance / native peer):');
  const pairs: Array<[string, string, string]> = [
    ['HTTP GET 1 KiB', 'http-static (kiln stack)', 'nginx (Linux, 1 worker)'],
    ['DNS queries (UDP)', 'dns (kiln stack)', 'NSD (Linux, 1 server)'],
    ['KV SET', 'kv (kiln stack)', 'redis-server (Linux)'],
    ['KV GET', 'kv (kiln stack)', 'redis-server (Linux)'],
  ];
  for (const [what, a, b] of pairs) {
    const x = rows.find((r) => r.what === what && r.server === a);
    const y = rows.find((r) => r.what === what && r.server === b);
    if (x && y) console.log(`  ${what.padEnd(20)} ${(x.value / y.value).toFixed(3)}`);
  }
  console.log('\nsizes:');
  for (const s of sizes) console.log(`  ${s}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
