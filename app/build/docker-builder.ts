// The container builder: the same pipeline, run by the same sources, inside the pinned builder
// image (docker-image.ts). The checkout is mounted read-only at its own path, so every path and
// every input is the one the bundled builder sees; the container has no network. Its cache is
// <cacheDir>/docker, separate from the bundled builder's, so a container build really builds and
// "reproducible" means two independent builds gave the same sha256.

import { PassThrough } from 'node:stream';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import Docker from 'dockerode';
import { repoRoot } from '../paths.ts';
import type { Availability, BuildOptions, Builder } from './builder.ts';
import { BuildFailure } from './errors.ts';
import { baseImagePresent, builderImageTag, ensureBuilderImage } from './docker-image.ts';
import type { BuildArtefact, BuildRequest, StageName } from './types.ts';
import type { WorkerOut } from './worker-protocol.ts';

export interface DockerBuilderOptions {
  /** dockerode options; default: the local socket */
  docker?: Docker.DockerOptions;
  /** ms to wait for the daemon to answer */
  pingTimeoutMs?: number;
}

export function dockerCacheDir(cacheDir: string): string {
  return join(cacheDir, 'docker');
}

export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  private readonly docker: Docker;
  private readonly pingTimeoutMs: number;

  constructor(opts: DockerBuilderOptions = {}) {
    this.docker = new Docker(
      opts.docker ?? { socketPath: process.env.DOCKER_HOST ? undefined : '/var/run/docker.sock' },
    );
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 3000;
  }

  async available(): Promise<Availability> {
    try {
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('no answer')), this.pingTimeoutMs).unref(),
        ),
      ]);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        ok: false,
        reason: `Docker is not reachable (${why}). Container builds are off; the bundled builder works as usual.`,
      };
    }
    if (!(await baseImagePresent(this.docker))) {
      return {
        ok: false,
        reason:
          'Docker answers, but the builder base image is missing: run resources/builder/make-base-image.sh once (needs debootstrap).',
      };
    }
    return { ok: true, detail: `Docker, image ${builderImageTag()}` };
  }

  async build(request: BuildRequest, opts: BuildOptions = {}): Promise<BuildArtefact> {
    const emit = opts.onEvent ?? (() => {});
    const availability = await this.available();
    if (!availability.ok) throw new BuildFailure('resolve', availability.reason);
    const log = (line: string): void => emit({ type: 'log', stage: 'resolve', line });
    let image: string;
    try {
      image = await ensureBuilderImage(this.docker, log);
    } catch (err) {
      throw new BuildFailure('resolve', err instanceof Error ? err.message : String(err));
    }
    const root = repoRoot();
    const cacheDir = dockerCacheDir(request.cacheDir);
    mkdirSync(cacheDir, { recursive: true });
    const inner: BuildRequest = { ...request, cacheDir };
    const binds = new Set<string>([`${root}:${root}:ro`, `${cacheDir}:${cacheDir}:rw`]);
    for (const p of [request.templatesDir, dirname(request.baseImage)]) {
      if (!p.startsWith(`${root}/`)) binds.add(`${p}:${p}:ro`);
    }
    for (const value of Object.values(request.settings)) {
      // Asset paths (absolute host paths in settings) are mounted read-only at the same path.
      if (typeof value === 'string' && isAbsolute(value) && !value.startsWith(`${root}/`)) {
        const p = resolve(value);
        binds.add(`${p}:${p}:ro`);
      }
    }
    log(`container build in ${image}`);
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: [
        '/usr/local/bin/node',
        '--import',
        join(root, 'scripts', 'loader', 'register-ts.mjs'),
        join(root, 'app', 'build', 'container-main.ts'),
        JSON.stringify(inner),
      ],
      WorkingDir: root,
      Env: ['HOME=/tmp', 'TZ=UTC', 'LANG=C.UTF-8'],
      Labels: { 'org.kiln.build': request.template },
      HostConfig: { Binds: [...binds], NetworkMode: 'none', AutoRemove: false },
    });
    let stage: StageName = 'resolve';
    let result: WorkerOut | null = null;
    const stderr: string[] = [];
    const onAbort = (): void => void container.kill().catch(() => {});
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const out = new PassThrough();
      const err = new PassThrough();
      this.docker.modem.demuxStream(stream, out, err);
      let buffered = '';
      out.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.trim()) continue;
          let msg: WorkerOut;
          try {
            msg = JSON.parse(line) as WorkerOut;
          } catch {
            emit({ type: 'log', stage, line });
            continue;
          }
          if (msg.type === 'event') {
            if (msg.event.type === 'stage') stage = msg.event.stage;
            emit(msg.event);
          } else result = msg;
        }
      });
      err.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) throw new BuildFailure(stage, 'Build cancelled.', { cancelled: true });
      await container.start();
      const exit = (await container.wait()) as { StatusCode: number };
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) {
        emit({ type: 'stage', stage, state: 'cancelled' });
        throw new BuildFailure(stage, 'Build cancelled.', { cancelled: true });
      }
      const final = result as WorkerOut | null;
      if (final?.type === 'done') return { ...final.artefact, builder: 'docker' };
      if (final?.type === 'failed') throw BuildFailure.from(final.failure);
      throw new BuildFailure(
        stage,
        `The builder container exited with status ${exit.StatusCode}: ${stderr.join('').trim().slice(-2000)}`,
      );
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await container.remove({ force: true }).catch(() => {});
    }
  }

  /**
   * Rebuilds the kernel base (`make -C kernel`) inside the builder image, for hosts without a
   * suitable C compiler: the sources are copied out of the read-only checkout into the
   * container, and the resulting kiln-base.elf is written (atomically) to `outFile`.
   */
  async buildKernelBase(outFile: string, log: (line: string) => void = () => {}): Promise<string> {
    const availability = await this.available();
    if (!availability.ok) throw new Error(availability.reason);
    const image = await ensureBuilderImage(this.docker, log);
    const root = repoRoot();
    const outDir = dirname(resolve(outFile));
    mkdirSync(outDir, { recursive: true });
    const tmpName = `.tmp-kiln-base-${process.pid}-${Date.now()}.elf`;
    const script = [
      'set -e',
      `cp -r ${join(root, 'kernel')} /tmp/kernel`,
      'rm -rf /tmp/kernel/build',
      'make -s -C /tmp/kernel build/kiln-base.elf',
      `cp /tmp/kernel/build/kiln-base.elf ${join(outDir, tmpName)}`,
    ].join('\n');
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: ['/bin/sh', '-c', script],
      HostConfig: { Binds: [`${root}:${root}:ro`, `${outDir}:${outDir}:rw`], NetworkMode: 'none' },
    });
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const out = new PassThrough();
      this.docker.modem.demuxStream(stream, out, out);
      out.setEncoding('utf8').on('data', (c: string) => c.split('\n').forEach((l) => l.trim() && log(l)));
      await container.start();
      const exit = (await container.wait()) as { StatusCode: number };
      if (exit.StatusCode !== 0)
        throw new Error(`make -C kernel failed in the builder container (status ${exit.StatusCode})`);
      renameSync(join(outDir, tmpName), outFile);
      return outFile;
    } finally {
      rmSync(join(outDir, tmpName), { force: true });
      await container.remove({ force: true }).catch(() => {});
    }
  }

  async close(): Promise<void> {}
}
