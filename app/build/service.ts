// The engine's build service: starts builds of library appliances on a Builder, keeps the
// library's build rows current (stage, timings, log, artefact), fans live events out to
// subscribers (the UI's build log, the CLI), and lets a build be cancelled. Builds outlive the
// view that started them: a subscriber may leave and come back, the service replays the log.

import { join } from 'node:path';
import { KilnError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { Build, BuildStatus, Store } from '../store/index.ts';
import type { TemplateRegistry } from '../templates/registry.ts';
import { ArtefactRepo, type ArtefactInfo } from './artefact-repo.ts';
import type { Availability, Builder } from './builder.ts';
import { BundledBuilder } from './bundled-builder.ts';
import { DockerBuilder } from './docker-builder.ts';
import { BuildFailure } from './errors.ts';
import { canonicalJson } from './hash.ts';
import { requireBaseImage, type BuildLocations } from './locations.ts';
import type { BuildArtefact, BuildEvent, BuildFailureData, BuilderName } from './types.ts';

export interface BuildView extends Build {
  applianceName: string;
  artefact: ArtefactInfo | null;
  /** another builder gave the same (true) or different (false) bytes for the same inputs */
  reproducible: boolean | null;
}

/** What a build's subscribers receive: the pipeline's events, then one final status. */
export type BuildStreamEvent =
  BuildEvent | { type: 'finished'; build: BuildView; failure: BuildFailureData | null };

export interface StartOptions {
  builder?: BuilderName;
  noCache?: boolean;
}

interface Running {
  buildId: number;
  name: string;
  controller: AbortController;
  replay: BuildStreamEvent[];
  listeners: Set<(e: BuildStreamEvent) => void>;
  done: Promise<BuildView>;
}

export class BuildService {
  private readonly artefacts: ArtefactRepo;
  private readonly running = new Map<number, Running>();
  private readonly builders: Record<BuilderName, Builder>;

  constructor(
    private readonly store: Store,
    private readonly templates: TemplateRegistry,
    private readonly events: EventBus,
    private readonly home: string,
    private readonly locations: BuildLocations,
    builders?: Partial<Record<BuilderName, Builder>>,
  ) {
    this.artefacts = new ArtefactRepo(store.db);
    this.builders = {
      bundled:
        builders?.bundled ??
        new BundledBuilder({ workerUrl: locations.workerUrl, toolchain: locations.toolchain }),
      docker: builders?.docker ?? new DockerBuilder(),
    };
  }

  get cacheDir(): string {
    return join(this.home, 'cache', 'build');
  }

  async availability(): Promise<Record<BuilderName, Availability>> {
    const [bundled, docker] = await Promise.all([
      this.builders.bundled.available(),
      this.builders.docker.available(),
    ]);
    return { bundled, docker };
  }

  /** Starts a build of the appliance; resolves once it is recorded as running. */
  start(name: string, opts: StartOptions = {}): { buildId: number; done: Promise<BuildView> } {
    const appliance = this.store.appliances.get(name);
    if (appliance.template === null) {
      throw new KilnError(
        'invalid_input',
        `"${name}" is an imported image: there is nothing to build, run it as it is.`,
        'name',
      );
    }
    const template = this.templates.get(appliance.template);
    for (const r of this.running.values()) {
      if (r.name === name)
        throw new KilnError('conflict', `"${name}" is already building (build ${r.buildId}).`, 'name');
    }
    const builderName = opts.builder ?? 'bundled';
    const builder = this.builders[builderName];
    const row = this.store.builds.create(appliance.id, builderName);
    const controller = new AbortController();
    const running: Running = {
      buildId: row.id,
      name,
      controller,
      replay: [],
      listeners: new Set(),
      done: Promise.resolve(null as never),
    };
    this.running.set(row.id, running);
    this.events.emit({ type: 'build.changed', name, buildId: row.id });

    const timings: Record<string, number> = {};
    let pendingLog = '';
    const flushLog = (): void => {
      if (pendingLog) this.store.builds.appendLog(row.id, pendingLog);
      pendingLog = '';
    };
    const publish = (e: BuildStreamEvent): void => {
      running.replay.push(e);
      for (const l of running.listeners) l(e);
    };
    const onEvent = (e: BuildEvent): void => {
      if (e.type === 'log') pendingLog += `[${e.stage}] ${e.line}\n`;
      else {
        if (e.ms !== undefined) timings[e.stage] = e.ms;
        if (e.state === 'running') this.store.builds.update(row.id, { stage: e.stage });
        else this.store.builds.update(row.id, { stageTimings: timings });
        flushLog();
      }
      publish(e);
    };

    let baseImage: string;
    try {
      baseImage = requireBaseImage(this.locations);
    } catch (err) {
      baseImage = '';
      queueMicrotask(() => controller.abort(err));
    }
    const request = {
      templatesDir: this.locations.templatesDir,
      template: template.name,
      settings: appliance.config,
      cacheDir: this.cacheDir,
      baseImage,
      noCache: opts.noCache === true,
    };
    const finish = (
      status: BuildStatus,
      artefact: BuildArtefact | null,
      failure: BuildFailureData | null,
    ): BuildView => {
      flushLog();
      this.store.builds.update(row.id, {
        status,
        finishedAt: Date.now(),
        stageTimings: timings,
        ...(artefact
          ? { imagePath: artefact.path, imageSize: artefact.size, imageSha256: artefact.sha256, stage: null }
          : {}),
        ...(failure ? { error: failure.message, stage: failure.stage } : {}),
      });
      if (artefact) {
        this.artefacts.record(row.id, {
          key: artefact.key,
          cached: artefact.cached,
          template: artefact.template,
          modules: artefact.modules,
          breakdown: artefact.breakdown,
          settings: appliance.config,
          totalMs: artefact.totalMs,
        });
      }
      this.running.delete(row.id);
      const view = this.view(this.store.builds.get(row.id)!);
      publish({ type: 'finished', build: view, failure });
      this.events.emit({ type: 'build.changed', name, buildId: row.id });
      return view;
    };
    running.done = (
      baseImage
        ? builder.build(request, { onEvent, signal: controller.signal })
        : Promise.reject(
            new BuildFailure('resolve', 'The kernel base (kiln-base.elf) is missing: run `make -C kernel`.'),
          )
    )
      .then((artefact) => finish('succeeded', artefact, null))
      .catch((err: unknown) => {
        const failure =
          err instanceof BuildFailure
            ? err
            : new BuildFailure('resolve', err instanceof Error ? err.message : String(err));
        return finish(failure.cancelled ? 'cancelled' : 'failed', null, failure.data());
      });
    return { buildId: row.id, done: running.done };
  }

  cancel(buildId: number): { cancelled: boolean } {
    const r = this.running.get(buildId);
    if (!r) return { cancelled: false };
    r.controller.abort();
    return { cancelled: true };
  }

  /** Live events of a build (the log so far first); a finished build sends its final status. */
  subscribe(buildId: number, listener: (e: BuildStreamEvent) => void): () => void {
    const r = this.running.get(buildId);
    if (!r) {
      const b = this.store.builds.get(buildId);
      if (!b) throw new KilnError('not_found', `No build ${buildId}.`, 'buildId');
      const view = this.view(b);
      queueMicrotask(() =>
        listener({
          type: 'finished',
          build: view,
          failure: b.error
            ? {
                stage: (b.stage ?? 'resolve') as BuildFailureData['stage'],
                code: b.status === 'cancelled' ? 'cancelled' : 'internal',
                message: b.error,
                cancelled: b.status === 'cancelled',
                diagnostics: [],
              }
            : null,
        }),
      );
      return () => {};
    }
    for (const e of r.replay) listener(e);
    r.listeners.add(listener);
    return () => r.listeners.delete(listener);
  }

  /** Builds of an appliance, newest first. */
  history(name: string, limit = 50): BuildView[] {
    const a = this.store.appliances.get(name);
    return this.store.builds.listFor(a.id, limit).map((b) => this.view(b, a.name));
  }

  get(buildId: number): BuildView & { log: string } {
    const b = this.store.builds.get(buildId);
    if (!b) throw new KilnError('not_found', `No build ${buildId}.`, 'buildId');
    return { ...this.view(b), log: this.store.builds.log(buildId) };
  }

  /** The appliance's settings differ from those of its latest image (or it has none). */
  stale(name: string): boolean {
    const a = this.store.appliances.get(name);
    if (a.template === null) return false;
    const latest = this.store.builds.latestSucceeded(a.id);
    const info = latest ? this.artefacts.get(latest.id) : null;
    return !info || canonicalJson(info.settings) !== canonicalJson(a.config);
  }

  runningBuilds(): { buildId: number; name: string }[] {
    return [...this.running.values()].map((r) => ({ buildId: r.buildId, name: r.name }));
  }

  private view(b: Build, name?: string): BuildView {
    const applianceName = name ?? this.store.appliances.byId(b.applianceId)?.name ?? '';
    return {
      ...b,
      applianceName,
      artefact: this.artefacts.get(b.id),
      reproducible: this.artefacts.reproducible(b.id),
    };
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    await Promise.all(Object.values(this.builders).map((b) => b.close()));
  }
}
