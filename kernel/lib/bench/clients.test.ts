// The benchmark clients' report parsers, on excerpts of real wrk, dnsperf and redis-benchmark output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDnsperf, parseRedisBenchmark, parseWrk } from './clients.ts';

describe('bench client parsers', () => {
  it('parseWrk reads requests/s, latency and any errors', () => {
    const ok = parseWrk(
      '  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency    34.11ms   36.20ms 209.74ms   84.08%\nRequests/sec:    395.36\n',
    );
    assert.deepEqual(ok, { rps: 395.36, latency: '34.11ms', problems: '' });
    const bad = parseWrk(
      '    Latency 1ms\n  Socket errors: connect 0, read 3, write 0, timeout 2\n  Non-2xx or 3xx responses: 17\nRequests/sec: 10\n',
    );
    assert.equal(
      bad.problems,
      'Non-2xx or 3xx responses: 17; Socket errors: connect 0, read 3, write 0, timeout 2',
    );
    assert.ok(Number.isNaN(parseWrk('connection refused').rps));
  });

  it('parseDnsperf reads queries/s, response codes and losses', () => {
    const r = parseDnsperf(
      '  Queries lost:         0 (0.00%)\n  Response codes:       NOERROR 10162 (80.00%), NXDOMAIN 2540 (20.00%)\n  Queries per second:   2536.835746\n',
    );
    assert.deepEqual(r, {
      qps: 2536.835746,
      codes: 'NOERROR 10162 (80.00%), NXDOMAIN 2540 (20.00%)',
      lost: '0 (0.00%)',
    });
  });

  it('parseRedisBenchmark reads the final figure after the progress lines', () => {
    const out =
      'SET: rps=674.6 (overall: 674.6) avg_msec=24.000\rSET: 859.40 requests per second, p50=19.071 msec\nGET: rps=1868.0\rGET: 2729.26 requests per second, p50=6.823 msec\n';
    assert.equal(parseRedisBenchmark(out, 'SET'), 859.4);
    assert.equal(parseRedisBenchmark(out, 'GET'), 2729.26);
  });
});
