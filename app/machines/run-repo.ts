// SQL for the machines area: runs, their console (with the per-run cap and its gap marker),
// events, and samples (full resolution for an hour, one row per minute beyond).
import type { Db } from '../store/index.ts';
import type { Attachment } from './hypervisor.ts';
import type { MachineSpec, MachineState, NicCounters } from './types.ts';

export interface RunRow {
  id: number;
  applianceId: number;
  name: string;
  hypervisor: string;
  spec: MachineSpec;
  state: MachineState | 'interrupted';
  pid: number | null;
  startedAt: number | null;
  stoppedAt: number | null;
  exitStatus: number | null;
  exitReason: string | null;
  bootMs: number | null;
  readyMs: number | null;
  attachment: Attachment | null;
  consoleBytes: number;
}

interface RawRun {
  id: number;
  appliance_id: number;
  name: string | null;
  hypervisor: string;
  options: string;
  state: RunRow['state'];
  pid: number | null;
  started_at: number | null;
  stopped_at: number | null;
  exit_status: number | null;
  exit_reason: string | null;
  boot_ms: number | null;
  ready_ms: number | null;
  attachment: string | null;
  console_bytes: number;
}

function toRow(r: RawRun): RunRow {
  const spec = JSON.parse(r.options) as MachineSpec;
  return {
    id: r.id,
    applianceId: r.appliance_id,
    name: r.name ?? spec.name,
    hypervisor: r.hypervisor,
    spec,
    state: r.state,
    pid: r.pid,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    exitStatus: r.exit_status,
    exitReason: r.exit_reason,
    bootMs: r.boot_ms,
    readyMs: r.ready_ms,
    attachment: r.attachment ? (JSON.parse(r.attachment) as Attachment) : null,
    consoleBytes: r.console_bytes,
  };
}

export interface ConsoleChunk {
  id: number;
  at: number;
  kind: 'out' | 'in' | 'gap';
  data: string;
}

export interface NetSampleRow extends NicCounters {
  nic: number;
  at: number;
  resolution: number;
}

export interface HostSampleRow {
  at: number;
  resolution: number;
  cpuPercent: number;
  memoryBytes: number;
  guestMemUsed: number | null;
}

export class RunRepo {
  constructor(private readonly db: Db) {}

  create(applianceId: number, spec: MachineSpec): RunRow {
    const info = this.db
      .prepare(
        "INSERT INTO runs (appliance_id, name, hypervisor, options, state, owner_pid, started_at) VALUES (?, ?, ?, ?, 'starting', ?, ?)",
      )
      .run(applianceId, spec.name, spec.hypervisor, JSON.stringify(spec), process.pid, Date.now());
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): RunRow | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return r && toRow(r);
  }

  list(limit = 100): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit) as RawRun[]).map(toRow);
  }

  listForAppliance(applianceId: number, limit = 50): RunRow[] {
    return (
      this.db
        .prepare('SELECT * FROM runs WHERE appliance_id = ? ORDER BY id DESC LIMIT ?')
        .all(applianceId, limit) as RawRun[]
    ).map(toRow);
  }

  active(): RunRow[] {
    return (
      this.db
        .prepare("SELECT * FROM runs WHERE state IN ('starting', 'running', 'paused') ORDER BY id")
        .all() as RawRun[]
    ).map(toRow);
  }

  update(
    id: number,
    patch: Partial<{
      state: RunRow['state'];
      pid: number | null;
      stoppedAt: number;
      exitStatus: number | null;
      exitReason: string;
      bootMs: number;
      readyMs: number;
      attachment: Attachment;
      ownerPid: number | null;
    }>,
  ): void {
    const cols: Record<string, string> = {
      state: 'state',
      pid: 'pid',
      stoppedAt: 'stopped_at',
      exitStatus: 'exit_status',
      exitReason: 'exit_reason',
      bootMs: 'boot_ms',
      readyMs: 'ready_ms',
      attachment: 'attachment',
      ownerPid: 'owner_pid',
    };
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      sets.push(`${cols[k]} = ?`);
      values.push(k === 'attachment' ? JSON.stringify(v) : v);
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  addEvent(runId: number, at: number, kind: string, detail?: string): void {
    this.db
      .prepare('INSERT INTO run_events (run_id, at, kind, detail) VALUES (?, ?, ?, ?)')
      .run(runId, at, kind, detail ?? null);
  }

  events(runId: number): { at: number; kind: string; detail: string | null }[] {
    return this.db
      .prepare('SELECT at, kind, detail FROM run_events WHERE run_id = ? ORDER BY id')
      .all(runId) as {
      at: number;
      kind: string;
      detail: string | null;
    }[];
  }

  /**
   * Appends console text and enforces the cap: the oldest output goes first, and one 'gap' row
   * (re-used and moved forward) says how much was dropped, so a reader always sees the hole.
   */
  appendConsole(
    runId: number,
    chunks: { at: number; kind: 'out' | 'in' | 'gap'; data: string }[],
    capBytes: number,
  ): void {
    this.db.transaction(() => {
      const insert = this.db.prepare(
        'INSERT INTO console_chunks (run_id, at, kind, data) VALUES (?, ?, ?, ?)',
      );
      let added = 0;
      // Rows stay small next to the cap: trimming drops whole rows, and one big row (a slow
      // flush under load batches everything) would take the newest output with it.
      const rowUnits = Math.max(64, Math.floor(capBytes / 8 / 3)); // <= 3 UTF-8 bytes per unit
      for (const c of chunks) {
        for (const piece of c.kind === 'gap' ? [c.data] : splitUnits(c.data, rowUnits)) {
          insert.run(runId, c.at, c.kind, piece);
          if (c.kind !== 'gap') added += Buffer.byteLength(piece);
        }
      }
      this.db.prepare('UPDATE runs SET console_bytes = console_bytes + ? WHERE id = ?').run(added, runId);
      const total = (
        this.db.prepare('SELECT console_bytes FROM runs WHERE id = ?').get(runId) as { console_bytes: number }
      ).console_bytes;
      if (total > capBytes) this.trimConsole(runId, total, capBytes);
    })();
  }

  private trimConsole(runId: number, total: number, capBytes: number): void {
    // Drop down to 90% of the cap so trimming happens in batches, not on every append.
    let excess = total - Math.floor(capBytes * 0.9);
    const oldGap = this.db
      .prepare(
        "SELECT id, data FROM console_chunks WHERE run_id = ? AND kind = 'gap' AND data LIKE '[kiln: % bytes of older output dropped%' ORDER BY id LIMIT 1",
      )
      .get(runId) as { id: number; data: string } | undefined;
    let dropped = oldGap ? Number(/(\d+) bytes/.exec(oldGap.data)?.[1] ?? 0) : 0;
    const rows = this.db
      .prepare("SELECT id, data FROM console_chunks WHERE run_id = ? AND kind != 'gap' ORDER BY id")
      .iterate(runId) as IterableIterator<{
      id: number;
      data: string;
    }>;
    const del = this.db.prepare('DELETE FROM console_chunks WHERE id = ?');
    let lastDeleted = 0;
    let freed = 0;
    const victims: number[] = [];
    for (const r of rows) {
      if (excess <= 0) break;
      const size = Buffer.byteLength(r.data);
      victims.push(r.id);
      excess -= size;
      freed += size;
      lastDeleted = r.id;
    }
    for (const id of victims) del.run(id);
    dropped += freed;
    if (oldGap) del.run(oldGap.id);
    // Re-use the newest freed id so the marker sits exactly where the hole is.
    this.db
      .prepare("INSERT INTO console_chunks (id, run_id, at, kind, data) VALUES (?, ?, ?, 'gap', ?)")
      .run(
        lastDeleted,
        runId,
        Date.now(),
        `[kiln: ${dropped} bytes of older output dropped (console cap ${capBytes} bytes)]\n`,
      );
    this.db.prepare('UPDATE runs SET console_bytes = console_bytes - ? WHERE id = ?').run(freed, runId);
  }

  console(runId: number, opts: { afterId?: number; since?: number; limit?: number } = {}): ConsoleChunk[] {
    return this.db
      .prepare(
        'SELECT id, at, kind, data FROM console_chunks WHERE run_id = ? AND id > ? AND at >= ? ORDER BY id LIMIT ?',
      )
      .all(runId, opts.afterId ?? 0, opts.since ?? 0, opts.limit ?? 1_000_000) as ConsoleChunk[];
  }

  consoleText(runId: number): string {
    return this.console(runId)
      .filter((c) => c.kind !== 'in')
      .map((c) => c.data)
      .join('');
  }

  /** Full-text search over every run's console (FTS5). */
  searchConsole(
    query: string,
    limit = 50,
  ): { runId: number; chunkId: number; at: number; snippet: string }[] {
    return this.db
      .prepare(
        `SELECT c.run_id AS runId, c.id AS chunkId, c.at AS at, snippet(console_fts, 0, '[', ']', '…', 12) AS snippet
           FROM console_fts JOIN console_chunks c ON c.id = console_fts.rowid
          WHERE console_fts MATCH ? ORDER BY c.id DESC LIMIT ?`,
      )
      .all(query, limit) as { runId: number; chunkId: number; at: number; snippet: string }[];
  }

  addSample(
    runId: number,
    at: number,
    host: { cpuPercent: number; memoryBytes: number; guestMemUsed: number | null },
    nics: NicCounters[],
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT OR REPLACE INTO host_samples (run_id, at, resolution, cpu_percent, memory_bytes, guest_mem_used) VALUES (?, ?, 1, ?, ?, ?)',
        )
        .run(runId, at, host.cpuPercent, host.memoryBytes, host.guestMemUsed);
      const ins = this.db.prepare(
        'INSERT OR REPLACE INTO net_samples (run_id, nic, at, resolution, rx_bytes, tx_bytes, rx_packets, tx_packets, rx_drops, tx_drops) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)',
      );
      nics.forEach((n, i) =>
        ins.run(runId, i, at, n.rxBytes, n.txBytes, n.rxPackets, n.txPackets, n.rxDropped, n.txDropped),
      );
    })();
  }

  /**
   * Folds full-resolution samples older than `keepMs` into one row per minute (counters are
   * cumulative, so a minute keeps its last value; CPU is averaged, memory keeps its peak).
   */
  downsample(olderThan: number): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO host_samples (run_id, at, resolution, cpu_percent, memory_bytes, guest_mem_used)
           SELECT run_id, (at / 60000) * 60000, 60, AVG(cpu_percent), MAX(memory_bytes), MAX(guest_mem_used)
             FROM host_samples WHERE resolution = 1 AND at < ? GROUP BY run_id, at / 60000`,
        )
        .run(olderThan);
      this.db.prepare('DELETE FROM host_samples WHERE resolution = 1 AND at < ?').run(olderThan);
      this.db
        .prepare(
          `INSERT OR REPLACE INTO net_samples (run_id, nic, at, resolution, rx_bytes, tx_bytes, rx_packets, tx_packets, rx_drops, tx_drops)
           SELECT run_id, nic, (at / 60000) * 60000, 60, MAX(rx_bytes), MAX(tx_bytes), MAX(rx_packets), MAX(tx_packets), MAX(rx_drops), MAX(tx_drops)
             FROM net_samples WHERE resolution = 1 AND at < ? GROUP BY run_id, nic, at / 60000`,
        )
        .run(olderThan);
      this.db.prepare('DELETE FROM net_samples WHERE resolution = 1 AND at < ?').run(olderThan);
    })();
  }

  hostSamples(runId: number, since = 0): HostSampleRow[] {
    return this.db
      .prepare(
        'SELECT at, resolution, cpu_percent AS cpuPercent, memory_bytes AS memoryBytes, guest_mem_used AS guestMemUsed FROM host_samples WHERE run_id = ? AND at >= ? ORDER BY at',
      )
      .all(runId, since) as HostSampleRow[];
  }

  netSamples(runId: number, since = 0): NetSampleRow[] {
    return this.db
      .prepare(
        `SELECT nic, at, resolution, rx_bytes AS rxBytes, tx_bytes AS txBytes, rx_packets AS rxPackets, tx_packets AS txPackets,
                rx_drops AS rxDropped, tx_drops AS txDropped FROM net_samples WHERE run_id = ? AND at >= ? ORDER BY nic, at`,
      )
      .all(runId, since) as NetSampleRow[];
  }
}

/** Splits text into pieces of at most `units` UTF-16 units, never inside a surrogate pair. */
export function splitUnits(text: string, units: number): string[] {
  if (text.length <= units) return [text];
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + units);
    const last = text.charCodeAt(end - 1);
    // Never end on a high surrogate; a one-unit piece takes the whole pair instead.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end = end - 1 > i ? end - 1 : end + 1;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}
