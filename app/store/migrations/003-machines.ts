import type { Migration } from './index.ts';

// Owned by the machines area: what re-attaching needs (attachment), why a run ended, the
// events timeline, and the host's view of the VM process sampled every second.
export const machines: Migration = {
  version: 3,
  name: 'machines: attachment, exit reason, events, host samples',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN name TEXT;
      ALTER TABLE runs ADD COLUMN attachment TEXT CHECK (attachment IS NULL OR json_valid(attachment));
      ALTER TABLE runs ADD COLUMN exit_reason TEXT;
      ALTER TABLE runs ADD COLUMN console_bytes INTEGER NOT NULL DEFAULT 0;

      CREATE TABLE run_events (
        id      INTEGER PRIMARY KEY,
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at      INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        detail  TEXT
      );
      CREATE INDEX run_events_by_run ON run_events(run_id, id);

      -- 'resolution' is seconds per row, as in net_samples (1 = full, 60 = downsampled).
      CREATE TABLE host_samples (
        run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at              INTEGER NOT NULL,
        resolution      INTEGER NOT NULL DEFAULT 1,
        cpu_percent     REAL NOT NULL,
        memory_bytes    INTEGER NOT NULL,
        guest_mem_used  INTEGER,
        PRIMARY KEY (run_id, resolution, at)
      ) WITHOUT ROWID;
    `);
  },
};
