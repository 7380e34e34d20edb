// The build columns app/build adds to the library (migration 4): the cache key and what the
// pipeline learnt about the image (modules linked, size breakdown, the settings it was built with).

import type { Db } from '../store/index.ts';
import type { ImageBreakdown } from './types.ts';

export interface ArtefactInfo {
  key: string;
  cached: boolean;
  template: string;
  modules: string[];
  breakdown: ImageBreakdown;
  /** the settings the image was built with: differing from the appliance's current ones = stale */
  settings: Record<string, unknown>;
  totalMs: number;
}

export class ArtefactRepo {
  constructor(private readonly db: Db) {}

  record(buildId: number, info: ArtefactInfo): void {
    this.db
      .prepare('UPDATE builds SET cache_key = ?, artefact = ? WHERE id = ?')
      .run(info.key, JSON.stringify(info), buildId);
  }

  get(buildId: number): ArtefactInfo | null {
    const row = this.db.prepare('SELECT artefact FROM builds WHERE id = ?').get(buildId) as
      { artefact: string } | undefined;
    if (!row) return null;
    const info = JSON.parse(row.artefact) as Partial<ArtefactInfo>;
    return info.key ? (info as ArtefactInfo) : null;
  }

  /**
   * true when another builder built the same inputs (same key) to the same bytes, false when it
   * got different bytes, null when only one builder has built them.
   */
  reproducible(buildId: number): boolean | null {
    const me = this.db
      .prepare("SELECT cache_key, builder, image_sha256 FROM builds WHERE id = ? AND status = 'succeeded'")
      .get(buildId) as { cache_key: string | null; builder: string; image_sha256: string | null } | undefined;
    if (!me?.cache_key) return null;
    const others = this.db
      .prepare(
        "SELECT DISTINCT image_sha256 AS sha FROM builds WHERE cache_key = ? AND builder <> ? AND status = 'succeeded'",
      )
      .all(me.cache_key, me.builder) as { sha: string }[];
    if (others.length === 0) return null;
    return others.every((o) => o.sha === me.image_sha256);
  }
}
