import type { Migration } from './index.ts';

/**
 * A stop asked by a process that does not own the run (e.g. `kiln stop` while the desktop app
 * holds the VM): it is written here, and the owning engine, which checks its runs every
 * sampling tick, performs the graceful stop itself (only the owner holds the guest's channel).
 */
export const stopRequests: Migration = {
  version: 5,
  name: 'stop requests',
  up(db) {
    db.exec(`
      -- {"kind": "stop" | "kill", "timeoutMs": n, "at": ms} (app/machines/service.ts)
      ALTER TABLE runs ADD COLUMN stop_request TEXT CHECK (stop_request IS NULL OR json_valid(stop_request));
    `);
  },
};
