import type { Migration } from './index.ts';

export const appliancesAndBuilds: Migration = {
  version: 1,
  name: 'appliances and builds',
  up(db) {
    db.exec(`
      CREATE TABLE appliances (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        template    TEXT,                    -- NULL for an imported image
        config      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
        created_at  INTEGER NOT NULL,        -- ms since the epoch
        updated_at  INTEGER NOT NULL
      );

      CREATE TABLE builds (
        id            INTEGER PRIMARY KEY,
        appliance_id  INTEGER NOT NULL REFERENCES appliances(id) ON DELETE CASCADE,
        status        TEXT NOT NULL CHECK (status IN
                        ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
        stage         TEXT,
        builder       TEXT NOT NULL DEFAULT 'bundled',
        owner_pid     INTEGER,               -- the engine process driving it, for crash recovery
        started_at    INTEGER,
        finished_at   INTEGER,
        stage_timings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(stage_timings)),
        log           TEXT NOT NULL DEFAULT '',
        image_path    TEXT,
        image_size    INTEGER,
        image_sha256  TEXT,
        error         TEXT
      );
      CREATE INDEX builds_by_appliance ON builds(appliance_id, id);
      CREATE INDEX builds_active ON builds(status) WHERE status IN ('queued', 'running');
    `);
  },
};
