// The benchmark's clients (wrk, dnsperf, redis-benchmark) run inside the namespace, and the
// parsers of their reports. A figure only counts when the answers were right: wrk's non-2xx
// count and dnsperf's response codes are reported next to it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TapNetns } from '../host/netns.ts';

export function nsExec(n: TapNetns, cmd: string, a: string[], timeoutMs = 180_000): Promise<string> {
  return n.exec(cmd, a, { timeoutMs }).then((r) => r.stdout + r.stderr);
}

export interface WrkResult {
  rps: number;
  latency: string;
  /** "Non-2xx or 3xx responses" and socket errors, when wrk printed any */
  problems: string;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const latency = /Latency\s+(\S+)/.exec(out)?.[1] ?? '?';
  const problems = [/Non-2xx or 3xx responses: \d+/.exec(out)?.[0], /Socket errors: [^\n]+/.exec(out)?.[0]]
    .filter(Boolean)
    .join('; ');
  return { rps, latency, problems };
}

export function wrk(n: TapNetns, url: string, seconds: number): Promise<WrkResult> {
  return nsExec(n, 'wrk', ['-t1', '-c10', `-d${seconds}s`, '--latency', url]).then(parseWrk);
}

export interface DnsperfResult {
  qps: number;
  /** e.g. "NOERROR 10162 (80.00%), NXDOMAIN 2540 (20.00%)" */
  codes: string;
  lost: string;
}

export function parseDnsperf(out: string): DnsperfResult {
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    codes: /Response codes:\s+([^\n]+)/.exec(out)?.[1]?.trim() ?? '?',
    lost: /Queries lost:\s+([^\n]+)/.exec(out)?.[1]?.trim() ?? '?',
  };
}

/** The query mix: four answers of different types and one NXDOMAIN (20 %). */
export function writeQueries(dir: string): string {
  const file = join(dir, 'queries.txt');
  writeFileSync(
    file,
    [
      'web.example.test A',
      'example.test MX',
      'web.example.test AAAA',
      'nope.example.test A',
      'example.test SOA',
    ]
      .map((l) => `${l}\n`)
      .join(''),
  );
  return file;
}

export function dnsperf(
  n: TapNetns,
  queries: string,
  server: string,
  port: number,
  seconds: number,
): Promise<DnsperfResult> {
  const a = ['-s', server, '-p', String(port), '-d', queries, '-l', String(seconds), '-c', '4', '-q', '64'];
  return nsExec(n, 'dnsperf', a).then(parseDnsperf);
}

export function parseRedisBenchmark(out: string, test: string): number {
  return Number(new RegExp(`${test}: ([\\d.]+) requests per second`).exec(out)?.[1] ?? NaN);
}

export async function redisBenchmark(
  n: TapNetns,
  host: string,
  port: number,
  requests: number,
): Promise<{ set: number; get: number }> {
  const a = ['-h', host, '-p', String(port), '-n', String(requests), '-c', '20', '-t', 'set,get', '-q'];
  const out = await nsExec(n, 'redis-benchmark', a);
  return { set: parseRedisBenchmark(out, 'SET'), get: parseRedisBenchmark(out, 'GET') };
}

/** Waits until a TCP port accepts, or a DNS server answers NOERROR for the zone's SOA. */
export async function waitService(n: TapNetns, host: string, port: number, dns = false): Promise<void> {
  const probe = dns
    ? `dig +time=2 +tries=1 @${host} -p ${port} example.test SOA | grep -q 'status: NOERROR'`
    : `exec 3<>/dev/tcp/${host}/${port}`; // /dev/tcp is a bash feature
  for (let i = 0; i < 150; i++) {
    try {
      await n.exec('bash', ['-c', probe], { timeoutMs: 5000 });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`${host}:${port} never answered${dns ? ' NOERROR' : ''}`);
}
