// Counters of a guest NIC as the host sees its backend device (a tap, or a Xen vif in dom0).
// The backend's rx is what the guest sent, so directions are swapped to the guest's view, the
// same view the kernel base's stats channel reports.
import { readFileSync } from 'node:fs';
import type { NicCounters } from '../types.ts';

export function readHostNicCounters(ifname: string, sysRoot = '/sys/class/net'): NicCounters | null {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) return null;
  const dir = `${sysRoot}/${ifname}/statistics`;
  const read = (name: string) => Number(readFileSync(`${dir}/${name}`, 'utf8').trim());
  try {
    return {
      rxBytes: read('tx_bytes'),
      rxPackets: read('tx_packets'),
      rxDropped: read('tx_dropped'),
      txBytes: read('rx_bytes'),
      txPackets: read('rx_packets'),
      txDropped: read('rx_dropped'),
    };
  } catch {
    return null;
  }
}
