import { EventEmitter } from 'node:events';

/** Library-level change notifications, so every open view refreshes without polling. */
export type LibraryEvent =
  | { type: 'appliance.created'; name: string }
  | { type: 'appliance.renamed'; name: string; from: string }
  | { type: 'appliance.updated'; name: string }
  | { type: 'appliance.removed'; name: string }
  | { type: 'build.changed'; name: string; buildId: number }
  | { type: 'run.changed'; name: string; runId: number };

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every stream subscriber listens here; the default limit of 10 is a leak warning for
    // ordinary emitters, not for a bus.
    this.emitter.setMaxListeners(0);
  }

  emit(e: LibraryEvent): void {
    this.emitter.emit('event', e);
  }

  on(listener: (e: LibraryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
