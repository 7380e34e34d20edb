// Netstack fuzzer: `npm run fuzz:netstack -- --seconds N [--seed S] [--target NAME]`.
// Runs each target (all of them, or the one named) for N seconds with runner.ts, which fails on a
// trap, an input over its step budget, a hang, or memory/counters past their bounds. Per layer:
// eth, arp, ipv4, icmp, udp, tcp, dhcp (targets/); netstack mixes them all; dns, http and resp
// feed the protocol engines (bench/protocol-fuzz-targets.ts).
import { fileURLToPath } from 'node:url';
import { PROTOCOL_TARGETS } from '../bench/protocol-fuzz-targets.ts';
import { NET_STAT_NAMES } from '../host/appliance.ts';
import { fuzzTarget, type FuzzReport, type FuzzTarget } from './runner.ts';
import { arpTarget } from './targets/arp.ts';
import { dhcpTarget } from './targets/dhcp.ts';
import { ethTarget } from './targets/eth.ts';
import { icmpTarget } from './targets/icmp.ts';
import { ipv4Target } from './targets/ipv4.ts';
import { netstackTarget } from './targets/netstack.ts';
import { statesNamed, tcpTarget } from './targets/tcp.ts';
import { udpTarget } from './targets/udp.ts';

export { fuzzTarget, makeRng, instantiate } from './runner.ts';
export type { FuzzTarget, FuzzReport, FuzzInstance, Coverage } from './runner.ts';

/** Each call makes a fresh target (the generators keep per-run state). */
export const TARGET_FACTORIES: Record<string, () => FuzzTarget> = {
  eth: ethTarget,
  arp: arpTarget,
  ipv4: ipv4Target,
  icmp: icmpTarget,
  udp: udpTarget,
  tcp: tcpTarget,
  dhcp: dhcpTarget,
  netstack: netstackTarget,
  ...Object.fromEntries(PROTOCOL_TARGETS.map((t) => [t.name, () => t])),
};
export const LAYER_TARGETS = ['eth', 'arp', 'ipv4', 'icmp', 'udp', 'tcp', 'dhcp'];

export function summary(r: FuzzReport, seed: number): string {
  const c = r.coverage;
  // Frames in and dropped, and what each layer accepted (the …Rx counters).
  const layer = NET_STAT_NAMES.filter(
    (k) => k === 'rxFrames' || k === 'rxDropped' || k.endsWith('Rx') || k === 'ipReassembled',
  )
    .filter((k) => c.stats[k])
    .map((k) => `${k} ${c.stats[k]}`)
    .join(', ');
  const states = r.target === 'tcp' ? `; TCP states ${statesNamed(c.states).join(' ')}` : '';
  return (
    `${r.target}: ${r.iterations} inputs (${r.frames} frames) in ${r.seconds} s, seed ${seed}, ${r.findings} findings` +
    `, max memory ${(r.maxMemoryBytes / 1048576).toFixed(1)} MiB, max connections ${r.maxConnections}, max timers ${r.maxTimers}` +
    (layer ? `; ${layer}` : '') +
    states
  );
}

async function cli(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
  };
  const seconds = Number(opt('seconds', '30'));
  const seed = Number(opt('seed', String(Date.now() % 2 ** 31)));
  const only = opt('target', '');
  if (only && !TARGET_FACTORIES[only])
    throw new Error(`unknown --target ${only}; one of: ${Object.keys(TARGET_FACTORIES).join(', ')}`);
  if (!(seconds > 0)) throw new Error('--seconds takes a positive number');
  for (const name of only ? [only] : Object.keys(TARGET_FACTORIES)) {
    const t = TARGET_FACTORIES[name]!();
    const r = await fuzzTarget(t, seconds, seed);
    console.log(summary(r, seed));
    const unmet = t.unmet?.(r.coverage) ?? [];
    if (unmet.length) console.log(`${name}: not reached: ${unmet.join('; ')}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().catch((e: unknown) => {
    console.error(String(e instanceof Error ? e.message : e));
    process.exit(1);
  });
}
