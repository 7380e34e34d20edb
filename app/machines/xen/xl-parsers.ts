// Parsers of `xl` output, written against the formats in xl(1) and xl-network-configuration:
// `xl list` (Name ID Mem VCPUs State Time(s)), `xl list -l` (JSON), `xl network-list`, and the
// dom0 vif counters under /sys/class/net/vif<domid>.<devid>/statistics.
import { readHostNicCounters } from '../stats/host-nic.ts';
import type { NicCounters } from '../types.ts';

export interface XlDomain {
  name: string;
  id: number;
  memMiB: number;
  vcpus: number;
  /** The six state flags: r running, b blocked, p paused, s shutdown, c crashed, d dying. */
  flags: {
    running: boolean;
    blocked: boolean;
    paused: boolean;
    shutdown: boolean;
    crashed: boolean;
    dying: boolean;
  };
  cpuSeconds: number;
}

export function parseXlList(text: string): XlDomain[] {
  const out: XlDomain[] = [];
  for (const line of text.split('\n')) {
    // Name may contain spaces? xl does not allow them; columns are whitespace-separated.
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([rbpscd-]{6})\s+([\d.]+)\s*$/.exec(line.trim());
    if (!m) continue;
    const f = m[5]!;
    out.push({
      name: m[1]!,
      id: Number(m[2]),
      memMiB: Number(m[3]),
      vcpus: Number(m[4]),
      flags: {
        running: f[0] === 'r',
        blocked: f[1] === 'b',
        paused: f[2] === 'p',
        shutdown: f[3] === 's',
        crashed: f[4] === 'c',
        dying: f[5] === 'd',
      },
      cpuSeconds: Number(m[6]),
    });
  }
  return out;
}

export interface XlLongEntry {
  domid: number;
  name: string;
  type: string;
  kernel: string | null;
  memoryKiB: number | null;
  vcpus: number | null;
  onCrash: string | null;
}

export function parseXlListLong(json: string): XlLongEntry[] {
  const data = JSON.parse(json) as {
    domid: number;
    config: {
      c_info?: { name?: string; type?: string };
      b_info?: { kernel?: string; max_memkb?: number; max_vcpus?: number };
      on_crash?: string;
    };
  }[];
  if (!Array.isArray(data)) throw new Error('xl list -l: expected a JSON array');
  return data.map((d) => ({
    domid: d.domid,
    name: d.config.c_info?.name ?? '',
    type: d.config.c_info?.type ?? '',
    kernel: d.config.b_info?.kernel ?? null,
    memoryKiB: d.config.b_info?.max_memkb ?? null,
    vcpus: d.config.b_info?.max_vcpus ?? null,
    onCrash: d.config.on_crash ?? null,
  }));
}

export interface XlVif {
  idx: number;
  backendDomid: number;
  mac: string;
  handle: number;
  state: number;
  eventChannel: number;
  txRingRef: number;
  rxRingRef: number;
  backendPath: string;
}

export function parseXlNetworkList(text: string): XlVif[] {
  const out: XlVif[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^(\d+)\s+(\d+)\s+([0-9a-fA-F:]{17})\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(-?\d+)\/(-?\d+)\s+(\S+)\s*$/.exec(
        line.trim(),
      );
    if (!m) continue;
    out.push({
      idx: Number(m[1]),
      backendDomid: Number(m[2]),
      mac: m[3]!.toLowerCase(),
      handle: Number(m[4]),
      state: Number(m[5]),
      eventChannel: Number(m[6]),
      txRingRef: Number(m[7]),
      rxRingRef: Number(m[8]),
      backendPath: m[9]!,
    });
  }
  return out;
}

/** Counters of a guest NIC seen from dom0 (backend device vif<domid>.<devid>). */
export function readVifCounters(
  domid: number,
  devid: number,
  sysRoot = '/sys/class/net',
): NicCounters | null {
  return readHostNicCounters(`vif${domid}.${devid}`, sysRoot);
}
