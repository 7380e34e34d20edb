// The real `kiln` binary running real VMs (the minimal PVH test kernel under TCG): foreground
// run with exit status, detached run, ps with the real port binding, logs with --grep, stats,
// and a stop from another process (which re-attaches, then stops).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../../paths.ts';
import { tempHome } from '../../testing/temp-home.ts';
import { pvhTestKernel } from '../../machines/testing/pvh-test-kernel.ts';

const home = tempHome('kiln-cli-machines-');
const bin = join(repoRoot(), 'bin', 'kiln.js');
const image = pvhTestKernel();
const started: number[] = [];

function kiln(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, KILN_HOME: home.dir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

after(() => {
  for (const id of started) kiln('kill', String(id));
  home.remove();
});

test('kiln run in the foreground prints the console and returns the guest status', () => {
  assert.equal(kiln('new', 'hello', 'demo').code, 0);
  const r = kiln('run', 'demo', '--image', image, '--append', 'x3', '--accel', 'tcg', '--net', 'none');
  assert.equal(r.code, 1, r.err);
  assert.equal(r.out, 'kiln pvh test kernel\nkiln: exit 3\n');
  assert.match(r.err, /stopped: exited with status 3/);
  const logs = kiln('logs', 'demo');
  assert.equal(logs.out, 'kiln pvh test kernel\nkiln: exit 3\n');
});

test('detached run, ps with the real binding, logs --grep, stats, stop from another process', () => {
  const port = 20000 + (process.pid % 20000);
  const r = kiln(
    'run',
    'demo',
    '-d',
    '--json',
    '--image',
    image,
    '--append',
    'e',
    '--accel',
    'tcg',
    '-p',
    `${port}:80`,
  );
  assert.equal(r.code, 0, r.err);
  const run = JSON.parse(r.out) as { runId: number; ports: { binding: string; url: string }[] };
  started.push(run.runId);
  assert.deepEqual(run.ports, [
    { binding: `127.0.0.1:${port} → guest :80/tcp`, url: `http://127.0.0.1:${port}/` },
  ]);
  const ps = JSON.parse(kiln('ps', '--json').out) as { runId: number; state: string }[];
  assert.deepEqual(
    ps.map((m) => [m.runId, m.state]),
    [[run.runId, 'running']],
  );
  assert.match(kiln('ps').out, new RegExp(`127\\.0\\.0\\.1:${port}`));
  const stop = kiln('stop', String(run.runId), '--timeout', '0', '--json');
  assert.equal(stop.code, 0, stop.err);
  assert.equal((JSON.parse(stop.out) as { state: string }).state, 'stopped');
  // The VM ran detached: output printed while no engine was attached is marked as a gap.
  const logs = kiln('logs', String(run.runId), '--grep', '^kiln');
  assert.equal(logs.code, 0);
  assert.ok(
    logs.out.split('\n').every((l) => l === '' || l.startsWith('kiln')),
    logs.out,
  );
  assert.match(kiln('logs', String(run.runId)).out, /console not captured/);
  const stats = JSON.parse(kiln('stats', String(run.runId), '--json').out) as { summary: { state: string } };
  assert.equal(stats.summary.state, 'stopped');
  assert.equal(JSON.parse(kiln('ps', '--json').out).length, 0);
  assert.equal(kiln('logs', 'nosuch').code, 1);
});
