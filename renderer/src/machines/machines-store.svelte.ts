// The machines list, kept fresh by the engine's streams: state changes refresh the list, live
// samples feed the sparklines (the last two minutes per run), and crashes/exits become notices.
import type { MethodResult, StreamEvent } from '../../../app/api/client-types.ts';
import { api } from '../lib/api.ts';

export type MachineItem = MethodResult<'machines', 'list'>[number];
export type LiveSample = StreamEvent<'machines', 'samples'>;
export type MachineNotice = StreamEvent<'machines', 'changes'> & { id: number };

const keepSamples = 120;

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

class MachinesStore {
  machines = $state<MachineItem[]>([]);
  loaded = $state(false);
  error = $state<string | undefined>();
  samples = $state<Record<number, LiveSample[]>>({});
  notices = $state<MachineNotice[]>([]);
  private stops: (() => void)[] = [];
  private users = 0;
  private nextNotice = 1;
  private timer: ReturnType<typeof setInterval> | undefined;

  follow(): () => void {
    if (this.users++ === 0) {
      void this.refresh();
      this.stops.push(
        api.machines.changes(
          {},
          {
            events: (batch) => {
              for (const n of batch) {
                if (n.state === 'crashed' || n.state === 'stopped' || n.state === 'lost') {
                  this.notices = [...this.notices, { ...n, id: this.nextNotice++ }].slice(-5);
                }
              }
              void this.refresh();
            },
          },
        ),
        api.machines.samples(
          {},
          {
            events: (batch) => {
              const next = { ...this.samples };
              for (const s of batch) next[s.runId] = [...(next[s.runId] ?? []), s].slice(-keepSamples);
              this.samples = next;
            },
          },
        ),
      );
      // Uptime and CPU columns move even when nothing changes state.
      this.timer = setInterval(() => void this.refresh(), 5000);
    }
    return () => {
      if (--this.users === 0) {
        for (const s of this.stops) s();
        this.stops = [];
        clearInterval(this.timer);
      }
    };
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  async refresh(): Promise<void> {
    try {
      this.machines = await api.machines.list({});
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.loaded = true;
    }
  }
}

export const machinesStore = new MachinesStore();
