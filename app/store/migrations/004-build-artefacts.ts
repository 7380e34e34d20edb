import type { Migration } from './index.ts';

/** What the build pipeline knows about an image beyond path/size/hash (owned by app/build). */
export const buildArtefacts: Migration = {
  version: 4,
  name: 'build artefacts',
  up(db) {
    db.exec(`
      ALTER TABLE builds ADD COLUMN cache_key TEXT;
      -- modules linked, size breakdown, settings built, cached flag (app/build/artefact-repo.ts)
      ALTER TABLE builds ADD COLUMN artefact TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(artefact));
      CREATE INDEX builds_by_key ON builds(cache_key) WHERE cache_key IS NOT NULL;
    `);
  },
};
