// The bundled builder: the pipeline in a worker thread of this process, with the compilers that
// ship with Kiln. Always available. Cancelling asks the pipeline to stop at the next stage, and
// terminates the thread if it does not within a short grace (asc and the native compiler run
// long synchronous stretches); atomic writes mean a terminated build leaves no artefact.

import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { sweepTemporaries } from './atomic.ts';
import type { Availability, BuildOptions, Builder } from './builder.ts';
import { BuildFailure } from './errors.ts';
import type { BuildArtefact, BuildRequest } from './types.ts';
import type { WorkerIn, WorkerOut } from './worker-protocol.ts';

export interface BundledBuilderOptions {
  /** the worker entry; a packaged app passes its bundled worker file */
  workerUrl?: URL;
  /** ms between a cancel request and terminating the thread */
  cancelGraceMs?: number;
}

interface Pending {
  resolve: (a: BuildArtefact) => void;
  reject: (e: BuildFailure) => void;
  opts: BuildOptions;
  request: BuildRequest;
  stage: import('./types.ts').StageName;
}

export class BundledBuilder implements Builder {
  readonly name = 'bundled' as const;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly workerUrl: URL;
  private readonly grace: number;

  constructor(opts: BundledBuilderOptions = {}) {
    this.workerUrl = opts.workerUrl ?? new URL('./worker.ts', import.meta.url);
    this.grace = opts.cancelGraceMs ?? 150;
  }

  async available(): Promise<Availability> {
    return { ok: true, detail: 'bundled compiler (always available)' };
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    // In a checkout the entry is TypeScript: loader hooks registered by `--import tsx` do not
    // reach worker threads on Node 20, so the worker registers them itself first (tsx, plus the
    // hook that keeps tsx away from dependencies: scripts/loader/deps-load-hook.mjs). A packaged app
    // passes its bundled .js worker, which loads directly.
    const href = JSON.stringify(this.workerUrl.href);
    const registerTs = JSON.stringify(new URL('../../scripts/loader/register-ts.mjs', import.meta.url).href);
    const boot = this.workerUrl.pathname.endsWith('.ts')
      ? `import(${registerTs}).then(() => import(${href}))`
      : `import(${href})`;
    const w = new Worker(`${boot}.catch((e) => { throw e; });`, { eval: true });
    w.on('message', (msg: WorkerOut) => this.onMessage(msg));
    w.on('error', (err) => this.failAll(err.message));
    w.on('exit', () => {
      if (this.worker === w) this.worker = null;
      this.failAll('the build worker stopped');
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private onMessage(msg: WorkerOut): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'event') {
      if (msg.event.type === 'stage') p.stage = msg.event.stage;
      p.opts.onEvent?.(msg.event);
      return;
    }
    this.settle(msg.id);
    if (msg.type === 'done') p.resolve(msg.artefact);
    else p.reject(BuildFailure.from(msg.failure));
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  private failAll(reason: string): void {
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(new BuildFailure(p.stage, `Build stopped: ${reason}.`));
    }
  }

  build(request: BuildRequest, opts: BuildOptions = {}): Promise<BuildArtefact> {
    const id = this.nextId++;
    const worker = this.spawn();
    worker.ref(); // a build in flight keeps the process alive; idle, the thread does not
    return new Promise<BuildArtefact>((resolve, reject) => {
      const pending: Pending = { resolve, reject, opts, request, stage: 'resolve' };
      this.pending.set(id, pending);
      if (opts.signal) {
        const onAbort = (): void => this.cancel(id, worker);
        if (opts.signal.aborted) queueMicrotask(onAbort);
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      worker.postMessage({ type: 'build', id, request } satisfies WorkerIn);
    });
  }

  private cancel(id: number, worker: Worker): void {
    const p = this.pending.get(id);
    if (!p) return;
    worker.postMessage({ type: 'cancel', id } satisfies WorkerIn);
    setTimeout(() => {
      if (!this.pending.has(id)) return;
      // Still busy inside a compiler: stop the thread. Other builds on it fail as stopped.
      this.settle(id);
      if (this.worker === worker) this.worker = null;
      void worker.terminate().then(() => {
        for (const sub of ['images', 'wasm', 'native'])
          sweepTemporaries(join(p.request.cacheDir, sub), process.pid);
        p.opts.onEvent?.({ type: 'stage', stage: p.stage, state: 'cancelled' });
        p.reject(new BuildFailure(p.stage, 'Build cancelled.', { cancelled: true }));
      });
    }, this.grace).unref();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
