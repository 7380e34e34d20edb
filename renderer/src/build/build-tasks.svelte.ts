// Builds in flight, app-wide: they keep running and stay visible (the task indicator, a notice
// at the end) whatever page the user is on. Each follows the engine's build.events stream.
import type { StreamEvent } from '../../../app/api/client-types.ts';
import type { StageName, StageState } from '../../../app/build/types.ts';
import { STAGES } from '../../../app/build/types.ts';
import { api } from '../lib/api.ts';

type BuildStreamEvent = StreamEvent<'build', 'events'>;
type Finished = Extract<BuildStreamEvent, { type: 'finished' }>;

export interface BuildTask {
  buildId: number;
  name: string;
  builder: 'bundled' | 'docker';
  stages: Record<StageName, { state: StageState | 'pending'; ms?: number }>;
  log: { stage: StageName; line: string }[];
  current: StageName | null;
  finished: Finished | null;
}

export interface BuildNotice {
  id: number;
  name: string;
  text: string;
  ok: boolean;
}

function emptyStages(): BuildTask['stages'] {
  return Object.fromEntries(STAGES.map((s) => [s, { state: 'pending' }])) as BuildTask['stages'];
}

class BuildTasks {
  tasks = $state<BuildTask[]>([]);
  notices = $state<BuildNotice[]>([]);
  private followed = new Set<number>();
  private nextNotice = 1;

  constructor() {
    if (typeof window !== 'undefined') {
      // After a reload, pick up builds still running in the engine.
      api.build
        .running({})
        .then((rs) => rs.forEach((r) => this.follow(r.buildId, r.name, 'bundled')))
        .catch(() => {});
    }
  }

  get running(): BuildTask[] {
    return this.tasks.filter((t) => t.finished === null);
  }

  latestFor(name: string): BuildTask | undefined {
    return this.tasks.findLast((t) => t.name === name);
  }

  async start(name: string, builder: 'bundled' | 'docker' = 'bundled'): Promise<number> {
    const { buildId } = await api.build.start({ name, builder });
    this.follow(buildId, name, builder);
    return buildId;
  }

  cancel(buildId: number): Promise<unknown> {
    return api.build.cancel({ buildId });
  }

  follow(buildId: number, name: string, builder: 'bundled' | 'docker'): void {
    if (this.followed.has(buildId)) return;
    this.followed.add(buildId);
    this.tasks.push({
      buildId,
      name,
      builder,
      stages: emptyStages(),
      log: [],
      current: null,
      finished: null,
    });
    const task = (): BuildTask | undefined => this.tasks.find((t) => t.buildId === buildId);
    api.build.events(
      { buildId },
      {
        events: (batch) => {
          const t = task();
          if (!t) return;
          for (const e of batch) {
            if (e.type === 'log') t.log.push({ stage: e.stage, line: e.line });
            else if (e.type === 'stage') {
              t.stages[e.stage] = { state: e.state, ...(e.ms !== undefined ? { ms: e.ms } : {}) };
              if (e.state === 'running') t.current = e.stage;
            } else {
              t.finished = e;
              t.current = null;
              this.notify(t, e);
            }
          }
        },
      },
    );
  }

  private notify(t: BuildTask, e: Finished): void {
    const b = e.build;
    const ok = b.status === 'succeeded';
    const text = ok
      ? `Built ${t.name}: ${((b.imageSize ?? 0) / 1024).toFixed(1)} KiB${b.artefact?.cached ? ' (cached)' : ''}`
      : `Build of ${t.name} ${b.status}: ${b.error ?? ''}`;
    const id = this.nextNotice++;
    this.notices.push({ id, name: t.name, text, ok });
    setTimeout(() => this.dismiss(id), 10000);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }
}

export const buildTasks = new BuildTasks();
