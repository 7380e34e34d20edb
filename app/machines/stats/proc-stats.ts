// Host view of a VM process from /proc: CPU time (utime+stime, all threads) and resident memory.
// CPU % is computed from the delta between two readings, so the first reading yields none.
import { readFileSync } from 'node:fs';

export interface ProcReading {
  at: number;
  cpuTicks: number;
  rssBytes: number;
}

const ticksPerSecond = 100; // USER_HZ: 100 on every Linux ABI Kiln runs on
const pageSize = 4096;

export function readProc(pid: number, now = Date.now()): ProcReading | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const rssPages = Number(rest[21]);
    return { at: now, cpuTicks: utime + stime, rssBytes: rssPages * pageSize };
  } catch {
    return null;
  }
}

export function cpuPercent(prev: ProcReading, cur: ProcReading): number {
  const seconds = (cur.at - prev.at) / 1000;
  if (seconds <= 0) return 0;
  return ((cur.cpuTicks - prev.cpuTicks) / ticksPerSecond / seconds) * 100;
}
