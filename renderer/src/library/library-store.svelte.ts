// The appliance list, kept fresh by the engine's library events (no polling).
import type { MethodResult } from '../../../app/api/client-types.ts';
import { api } from '../lib/api.ts';

export type ApplianceItem = MethodResult<'appliances', 'list'>[number];

class LibraryStore {
  appliances = $state<ApplianceItem[]>([]);
  loaded = $state(false);
  error = $state<string | undefined>();
  private unsubscribe: (() => void) | undefined;
  private users = 0;

  /** Starts following the library; returns the function that stops. */
  follow(): () => void {
    if (this.users++ === 0) {
      void this.refresh();
      this.unsubscribe = api.library.events({}, { events: () => void this.refresh() });
    }
    return () => {
      if (--this.users === 0) this.unsubscribe?.();
    };
  }

  async refresh(): Promise<void> {
    try {
      this.appliances = await api.appliances.list({});
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.loaded = true;
    }
  }
}

export const library = new LibraryStore();
