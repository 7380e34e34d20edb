// The container builder against the real Docker daemon: the base image is made locally
// (debootstrap + docker import, no registry here), the builder image from our Dockerfile, then a
// hello build in the container must give the same sha256 as the bundled builder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../paths.ts';
import { BundledBuilder } from './bundled-builder.ts';
import { DockerBuilder } from './docker-builder.ts';
import { BuildFailure } from './errors.ts';
import { BASE_IMAGE, request, tempDir } from './testing.ts';
import type { BuildEvent } from './types.ts';
import { ensureKernelBuilt } from '../../kernel/base/test/qemu-run.ts';

describe('container builder', () => {
  const tmp = tempDir('docker-build');
  const cache = join(tmp.dir, 'cache');
  const bundled = new BundledBuilder();
  const docker = new DockerBuilder();

  before(() => {
    ensureKernelBuilt();
    const root = repoRoot();
    execFileSync(join(root, 'scripts', 'start-dockerd.sh'), { stdio: 'inherit' });
    execFileSync(join(root, 'resources', 'builder', 'make-base-image.sh'), { stdio: 'inherit' });
  });
  after(async () => {
    await bundled.close();
    tmp.remove();
  });

  it('is available once the daemon and the base image are there', async () => {
    const a = await docker.available();
    assert.equal(a.ok, true, a.ok ? '' : a.reason);
  });

  it('builds hello in the container with the same sha256 as the bundled builder (reproducible)', async () => {
    const settings = { greeting: 'Reproducible', repeat: 3 };
    const events: BuildEvent[] = [];
    const inContainer = await docker.build(request(cache, 'hello', settings), {
      onEvent: (e) => events.push(e),
    });
    assert.equal(inContainer.builder, 'docker');
    assert.equal(inContainer.cached, false);
    const stages = events
      .filter((e) => e.type === 'stage' && e.state === 'done')
      .map((e) => e.type === 'stage' && e.stage);
    assert.deepEqual(stages, ['resolve', 'generate', 'compile-as', 'compile-native', 'link', 'record']);
    const onHost = await bundled.build(request(cache, 'hello', settings));
    assert.equal(onHost.cached, false, 'the bundled cache is separate from the container cache');
    assert.equal(inContainer.key, onHost.key);
    assert.equal(inContainer.sha256, onHost.sha256);
  });

  it('rebuilds the kernel base in the container, byte-identical to the host build', async () => {
    const out = join(tmp.dir, 'container-base', 'kiln-base.elf');
    await docker.buildKernelBase(out);
    const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    assert.equal(sha(out), sha(BASE_IMAGE));
  });

  it('reports an unreachable daemon as a clear, non-fatal failure', async () => {
    const missing = new DockerBuilder({ docker: { socketPath: join(tmp.dir, 'no-docker.sock') } });
    const a = await missing.available();
    assert.equal(a.ok, false);
    assert.match(a.ok ? '' : a.reason, /Docker is not reachable.*bundled builder works/);
    const failure = await missing.build(request(cache, 'hello')).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(failure instanceof BuildFailure);
    assert.match(failure.message, /Docker is not reachable/);
  });
});
