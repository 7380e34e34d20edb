import type { Db } from './db.ts';

/** True when a process with this pid exists (signal 0 probes without touching it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RecoveryReport {
  buildsInterrupted: number;
  runsInterrupted: number;
}

/**
 * Marks work left "running" by an engine process that no longer exists. Builds cannot outlive
 * their engine, so they become 'interrupted'. Runs whose hypervisor process is gone too become
 * 'interrupted'; runs whose VM still lives are left for the machines service to re-attach.
 */
export function recoverOrphans(db: Db, alive: (pid: number) => boolean = processAlive): RecoveryReport {
  return db.transaction(() => {
    const now = Date.now();
    let buildsInterrupted = 0;
    const builds = db
      .prepare("SELECT id, owner_pid FROM builds WHERE status IN ('queued', 'running')")
      .all() as { id: number; owner_pid: number | null }[];
    const markBuild = db.prepare(
      "UPDATE builds SET status = 'interrupted', finished_at = ?, error = 'The Kiln process running this build stopped before it finished.' WHERE id = ?",
    );
    for (const b of builds) {
      if (b.owner_pid !== null && b.owner_pid !== process.pid && alive(b.owner_pid)) continue;
      if (b.owner_pid === process.pid) continue;
      markBuild.run(now, b.id);
      buildsInterrupted++;
    }

    let runsInterrupted = 0;
    const runs = db
      .prepare("SELECT id, pid, owner_pid FROM runs WHERE state IN ('starting', 'running', 'paused')")
      .all() as { id: number; pid: number | null; owner_pid: number | null }[];
    const markRun = db.prepare("UPDATE runs SET state = 'interrupted', stopped_at = ? WHERE id = ?");
    for (const r of runs) {
      if (r.owner_pid === process.pid) continue;
      if (r.owner_pid !== null && alive(r.owner_pid)) continue;
      if (r.pid !== null && alive(r.pid)) continue; // the VM lives: the machines service re-attaches
      markRun.run(now, r.id);
      runsInterrupted++;
    }
    return { buildsInterrupted, runsInterrupted };
  })();
}
