// Parser of the kernel base's stats channel (kernel/ABI.md section 4):
//   kiln-stats 1 t=<ms> mem=<used>/<total> net<h>=<rxB>/<rxP>/<rxD>/<txB>/<txP>/<txD> ... blk<h>=...
// Unknown fields are ignored (a newer format version may append some).
import type { NicCounters } from '../types.ts';

export interface GuestStats {
  uptimeMs: number | null;
  memUsed: number | null;
  memTotal: number | null;
  nics: NicCounters[];
}

export function parseGuestStatsLine(line: string): GuestStats | null {
  const fields = line.trim().split(' ');
  if (fields[0] !== 'kiln-stats' || !/^\d+$/.test(fields[1] ?? '') || Number(fields[1]) < 1) return null;
  const out: GuestStats = { uptimeMs: null, memUsed: null, memTotal: null, nics: [] };
  for (const f of fields.slice(2)) {
    const eq = f.indexOf('=');
    if (eq < 0) continue;
    const key = f.slice(0, eq);
    const nums = f.slice(eq + 1).split('/');
    if (!nums.every((n) => /^\d+$/.test(n))) continue;
    const v = nums.map(Number);
    if (key === 't' && v.length === 1) out.uptimeMs = v[0]!;
    else if (key === 'mem' && v.length === 2) [out.memUsed, out.memTotal] = [v[0]!, v[1]!];
    else if (/^net\d+$/.test(key) && v.length >= 6) {
      out.nics[Number(key.slice(3))] = {
        rxBytes: v[0]!,
        rxPackets: v[1]!,
        rxDropped: v[2]!,
        txBytes: v[3]!,
        txPackets: v[4]!,
        txDropped: v[5]!,
      };
    }
  }
  for (let i = 0; i < out.nics.length; i++) {
    out.nics[i] ??= { rxBytes: 0, rxPackets: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txDropped: 0 };
  }
  return out;
}

/** Splits a byte stream into lines and keeps the latest parsed report. */
export class GuestStatsReader {
  private partial = '';
  latest: GuestStats | null = null;

  push(chunk: Buffer | string): GuestStats | null {
    this.partial += chunk.toString('latin1');
    let nl: number;
    let got: GuestStats | null = null;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const parsed = parseGuestStatsLine(this.partial.slice(0, nl));
      this.partial = this.partial.slice(nl + 1);
      if (parsed) got = this.latest = parsed;
    }
    if (this.partial.length > 4096) this.partial = ''; // garbage without newlines
    return got;
  }
}
