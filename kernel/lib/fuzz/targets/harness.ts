// Paths of the harness appliances the layer targets run.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_IP, arp, type Rng } from '../frames.ts';
import type { Coverage, FuzzTarget } from '../runner.ts';

const apps = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'apps');
/** Static 10.0.0.2/24, UDP+TCP echo on 7, UDP 9 opens connections (apps/fuzz-harness.ts). */
export const STACK_HARNESS = join(apps, 'fuzz-harness.ts');
/** ipv4_mode "dhcp" (apps/fuzz-dhcp-harness.ts). */
export const DHCP_HARNESS = join(apps, 'fuzz-dhcp-harness.ts');

/** A target's input generator; `seen` counts what it saw the appliance answer (Coverage.observed). */
export interface Generator {
  next(rng: Rng, sent: Buffer[]): Buffer[];
  seen?: Record<string, number>;
}

/**
 * A target of the stack harness (or `opts.entry`). `reach` says what a run must have reached,
 * by description; `n(name)` reads a kiln_stats counter at the end of the run. With
 * `opts.answerArp` the appliance's ARP requests are answered before the generator's inputs.
 */
export function layerTarget(
  name: string,
  gen: Generator,
  reach: (c: Coverage, n: (stat: string) => number) => Record<string, boolean>,
  opts: { entry?: string; fire?: (rng: Rng) => boolean; answerArp?: boolean } = {},
): FuzzTarget {
  return {
    name,
    entry: opts.entry ?? STACK_HARNESS,
    next: (rng, sent) =>
      opts.answerArp ? [...answerArp(sent), ...gen.next(rng, sent)] : gen.next(rng, sent),
    fire: opts.fire,
    observed: () => ({ ...gen.seen }),
    unmet: (c) =>
      Object.entries(reach(c, (stat) => c.stats[stat] ?? 0))
        .filter(([, ok]) => !ok)
        .map(([what]) => what),
  };
}

/** `state X reached` for each of `states` (name → state number; bit n of c.states). */
export function statesReached(c: Coverage, states: Record<string, number>): Record<string, boolean> {
  return Object.fromEntries(
    Object.entries(states).map(([name, s]) => [`state ${name} reached`, (c.states & (1 << s)) !== 0]),
  );
}

/** Parses an IPv4 frame the appliance sent: protocol, addresses and the L4 bytes. */
export function parseSent(
  f: Buffer,
): { proto: number; src: number; dst: number; l4: Buffer; frag: number } | null {
  if (f.length < 34 || f.readUInt16BE(12) !== 0x0800) return null;
  const ihl = (f[14]! & 15) * 4;
  const total = f.readUInt16BE(16);
  return {
    proto: f[23]!,
    src: f.readUInt32BE(26),
    dst: f.readUInt32BE(30),
    frag: f.readUInt16BE(20),
    l4: f.subarray(14 + ihl, Math.min(f.length, 14 + total)),
  };
}

/** Replies for the ARP requests the appliance sent (every neighbour is answered at once, as a
 *  LAN would), so the answers of the layer under test are not held up waiting for ARP. */
export function answerArp(sent: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const f of sent) {
    if (f.length < 42 || f.readUInt16BE(12) !== 0x0806 || f.readUInt16BE(20) !== 1) continue;
    const who = f.readUInt32BE(38);
    if (out.length < 4) out.push(arp(2, who, APP_IP, false));
  }
  return out;
}
