// `kiln build` and `kiln import` through the real binary: every template builds through the CLI
// (stages, then path, size and sha256), each image boots under QEMU and prints its ready line;
// hello greets and echo answers over TCP in the VM; a rebuild is a cache hit; a failure exits
// non-zero with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../paths.ts';
import { tempHome } from '../../testing/temp-home.ts';
import {
  BASE_IMAGE,
  bootImage,
  ensureKernelBuilt,
  type BootResult,
} from '../../../kernel/base/test/qemu-run.ts';

const home = tempHome('kiln-cli-build-');
const bin = join(repoRoot(), 'bin', 'kiln.js');
const templatesDir = join(repoRoot(), 'resources', 'templates');
const templates = readdirSync(templatesDir)
  .filter((n) => existsSync(join(templatesDir, n, 'template.json')))
  .sort();

function kiln(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, KILN_HOME: home.dir },
    encoding: 'utf8',
    timeout: 900_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface BuildJson {
  status: string;
  image: string;
  size: number;
  sha256: string;
  cached: boolean;
  stages: { stage: string; state: string }[];
  modules: string[];
}

/**
 * Boots a server until its ready line (then stops the VM); an appliance that is not networked runs
 * until it exits by itself, so its exit status is the guest's, not the stop's.
 */
function bootUntilReady(
  image: string,
  networked: boolean,
  forward?: string,
  onReady?: () => Promise<void>,
): Promise<BootResult> {
  let pid = 0;
  let seen = false;
  let out = '';
  return bootImage({
    image,
    timeoutMs: 120_000,
    netdevs: networked ? [{ backend: `user${forward ? `,hostfwd=${forward}` : ''}` }] : [],
    onSpawn: (p) => (pid = p),
    onOutput: (chunk) => {
      out += chunk;
      if (networked && !seen && out.includes('kiln: ready')) {
        seen = true;
        void (onReady ?? (async () => {}))().finally(() => process.kill(pid, 'SIGTERM'));
      }
    },
  });
}

function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.setTimeout(20_000, () => sock.destroy(new Error('echo timed out')));
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) sock.end();
    });
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
  });
}

describe('kiln build / kiln import', () => {
  before(() => ensureKernelBuilt());
  after(() => home.remove());

  const images = new Map<string, string>();
  for (const template of templates) {
    const networked = (
      JSON.parse(readFileSync(join(templatesDir, template, 'template.json'), 'utf8')) as {
        networked: boolean;
      }
    ).networked;

    it(`builds the ${template} template through the CLI: stages, then path, size and sha256`, () => {
      assert.equal(kiln('new', template, `t-${template}`).code, 0);
      const r = kiln('build', `t-${template}`, '--json');
      assert.equal(r.code, 0, r.err + r.out);
      const b = JSON.parse(r.out) as BuildJson;
      assert.equal(b.status, 'succeeded');
      assert.equal(createHash('sha256').update(readFileSync(b.image)).digest('hex'), b.sha256);
      assert.equal(readFileSync(b.image).length, b.size);
      assert.deepEqual(
        b.stages.map((s) => s.stage),
        ['resolve', 'generate', 'compile-as', 'compile-native', 'link', 'record'],
      );
      if (networked) assert.ok(b.modules.includes('kiln/net'), b.modules.join(' '));
      else assert.ok(!b.modules.includes('kiln/net'), b.modules.join(' '));
      images.set(template, b.image);
    });

    it(`the ${template} image boots under QEMU to its ready line${template === 'echo' ? ' and echoes over TCP' : ''}`, async () => {
      const image = images.get(template);
      assert.ok(image, 'built by the previous test');
      if (template === 'echo') {
        const port = 21000 + (process.pid % 20000);
        let answer = '';
        const boot = await bootUntilReady(image, true, `tcp:127.0.0.1:${port}-:7`, async () => {
          answer = await echoOnce(port, 'kiln echo test\n');
        });
        assert.match(boot.stdout, /kiln: ready/, boot.stdout + boot.stderr);
        assert.equal(answer, 'kiln echo test\n');
      } else {
        const boot = await bootUntilReady(image, networked);
        assert.match(boot.stdout, /kiln: ready/, boot.stdout + boot.stderr);
        if (template === 'hello') {
          assert.match(boot.stdout, /^Hello from Kiln$/m);
          assert.equal(boot.exitStatus, 0);
        }
      }
    });
  }

  it('rebuilding unchanged inputs reports the cached image', () => {
    const r = kiln('build', 't-hello', '--json');
    assert.equal(r.code, 0, r.err);
    const b = JSON.parse(r.out) as BuildJson;
    assert.equal(b.cached, true);
    const text = kiln('build', 't-hello');
    assert.match(text.out, /^image {3}\/.*\.elf$/m);
    assert.match(text.out, /^size {4}\d+ bytes .*from the cache/m);
    assert.match(text.out, /^sha256 {2}[0-9a-f]{64}$/m);
    assert.match(text.err, /cached +Link with the kernel base/);
  });

  it('a build that fails exits non-zero with the reason', () => {
    const r = kiln('build', 'no-such-appliance');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /No appliance named "no-such-appliance"/);
  });

  it('imports a PVH kernel, refuses a non-ELF file with the reason', () => {
    const ok = kiln('import', 'imported', BASE_IMAGE, '--json');
    assert.equal(ok.code, 0, ok.err);
    const j = JSON.parse(ok.out) as { protocols: string[]; image: string };
    assert.deepEqual(j.protocols, ['pvh']);
    const text = join(home.dir, 'readme.txt');
    writeFileSync(text, 'not a kernel at all, just text long enough to have a header\n');
    const bad = kiln('import', 'bad', text);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /Not an ELF file/);
  });
});
