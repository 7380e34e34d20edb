import type { Migration } from './index.ts';

export const runsConsoleSamples: Migration = {
  version: 2,
  name: 'runs, console output and network samples',
  up(db) {
    db.exec(`
      CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        appliance_id  INTEGER NOT NULL REFERENCES appliances(id) ON DELETE CASCADE,
        build_id      INTEGER REFERENCES builds(id) ON DELETE SET NULL,
        hypervisor    TEXT NOT NULL,
        options       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
        state         TEXT NOT NULL CHECK (state IN
                        ('starting', 'running', 'paused', 'stopped', 'crashed', 'lost', 'interrupted')),
        pid           INTEGER,               -- the hypervisor process (QEMU) or domain id (Xen)
        owner_pid     INTEGER,               -- the engine process that launched it
        started_at    INTEGER,
        stopped_at    INTEGER,
        exit_status   INTEGER,
        boot_ms       REAL,                  -- launch -> first console byte
        ready_ms      REAL                   -- launch -> "kiln: ready"
      );
      CREATE INDEX runs_by_appliance ON runs(appliance_id, id);
      CREATE INDEX runs_active ON runs(state) WHERE state IN ('starting', 'running', 'paused');

      -- Append-only console output. 'gap' rows mark output dropped by the per-run cap.
      CREATE TABLE console_chunks (
        id      INTEGER PRIMARY KEY,
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        at      INTEGER NOT NULL,
        kind    TEXT NOT NULL DEFAULT 'out' CHECK (kind IN ('out', 'in', 'gap')),
        data    TEXT NOT NULL
      );
      CREATE INDEX console_by_run ON console_chunks(run_id, id);

      CREATE VIRTUAL TABLE console_fts USING fts5(data, content='console_chunks', content_rowid='id');
      CREATE TRIGGER console_ai AFTER INSERT ON console_chunks BEGIN
        INSERT INTO console_fts(rowid, data) VALUES (new.id, new.data);
      END;
      CREATE TRIGGER console_ad AFTER DELETE ON console_chunks BEGIN
        INSERT INTO console_fts(console_fts, rowid, data) VALUES ('delete', old.id, old.data);
      END;

      -- Per-NIC counters sampled every second; 'resolution' is seconds per row (1 = full).
      CREATE TABLE net_samples (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        nic         INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        resolution  INTEGER NOT NULL DEFAULT 1,
        rx_bytes    INTEGER NOT NULL,
        tx_bytes    INTEGER NOT NULL,
        rx_packets  INTEGER NOT NULL,
        tx_packets  INTEGER NOT NULL,
        rx_drops    INTEGER NOT NULL,
        tx_drops    INTEGER NOT NULL,
        PRIMARY KEY (run_id, nic, resolution, at)
      ) WITHOUT ROWID;
    `);
  },
};
