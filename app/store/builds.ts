import type { Db } from './db.ts';

export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface Build {
  id: number;
  applianceId: number;
  status: BuildStatus;
  stage: string | null;
  builder: string;
  startedAt: number | null;
  finishedAt: number | null;
  stageTimings: Record<string, number>;
  imagePath: string | null;
  imageSize: number | null;
  imageSha256: string | null;
  error: string | null;
}

interface BuildRow {
  id: number;
  appliance_id: number;
  status: BuildStatus;
  stage: string | null;
  builder: string;
  started_at: number | null;
  finished_at: number | null;
  stage_timings: string;
  image_path: string | null;
  image_size: number | null;
  image_sha256: string | null;
  error: string | null;
}

const COLUMNS =
  'id, appliance_id, status, stage, builder, started_at, finished_at, stage_timings, image_path, image_size, image_sha256, error';

function fromRow(r: BuildRow): Build {
  return {
    id: r.id,
    applianceId: r.appliance_id,
    status: r.status,
    stage: r.stage,
    builder: r.builder,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    stageTimings: JSON.parse(r.stage_timings) as Record<string, number>,
    imagePath: r.image_path,
    imageSize: r.image_size,
    imageSha256: r.image_sha256,
    error: r.error,
  };
}

export interface BuildUpdate {
  status?: BuildStatus;
  stage?: string | null;
  finishedAt?: number | null;
  stageTimings?: Record<string, number>;
  imagePath?: string | null;
  imageSize?: number | null;
  imageSha256?: string | null;
  error?: string | null;
}

const UPDATE_COLUMNS: Record<keyof BuildUpdate, string> = {
  status: 'status',
  stage: 'stage',
  finishedAt: 'finished_at',
  stageTimings: 'stage_timings',
  imagePath: 'image_path',
  imageSize: 'image_size',
  imageSha256: 'image_sha256',
  error: 'error',
};

export class BuildRepo {
  constructor(private readonly db: Db) {}

  create(applianceId: number, builder: string): Build {
    const info = this.db
      .prepare(
        "INSERT INTO builds (appliance_id, status, builder, owner_pid, started_at) VALUES (?, 'running', ?, ?, ?)",
      )
      .run(applianceId, builder, process.pid, Date.now());
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): Build | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM builds WHERE id = ?`).get(id) as BuildRow | undefined;
    return row && fromRow(row);
  }

  listFor(applianceId: number, limit = 50): Build[] {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM builds WHERE appliance_id = ? ORDER BY id DESC LIMIT ?`)
      .all(applianceId, limit) as BuildRow[];
    return rows.map(fromRow);
  }

  latestSucceeded(applianceId: number): Build | undefined {
    const row = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM builds WHERE appliance_id = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1`,
      )
      .get(applianceId) as BuildRow | undefined;
    return row && fromRow(row);
  }

  update(id: number, patch: BuildUpdate): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, column] of Object.entries(UPDATE_COLUMNS) as [keyof BuildUpdate, string][]) {
      if (!(key in patch)) continue;
      const v = patch[key];
      sets.push(`${column} = ?`);
      values.push(key === 'stageTimings' ? JSON.stringify(v) : v);
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE builds SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  appendLog(id: number, text: string): void {
    this.db.prepare('UPDATE builds SET log = log || ? WHERE id = ?').run(text, id);
  }

  log(id: number): string {
    const row = this.db.prepare('SELECT log FROM builds WHERE id = ?').get(id) as { log: string } | undefined;
    return row?.log ?? '';
  }
}
