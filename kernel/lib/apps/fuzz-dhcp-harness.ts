// Fuzz harness appliance for the DHCP client: the stack brought up with ipv4_mode "dhcp" and fed
// frame by frame by kernel/lib/fuzz/runner.ts (the dhcp target answers its DISCOVERs and REQUESTs).
import { Config } from "kiln/config";
import { turn } from "kiln/loop";
import { netStart, tcpStats } from "kiln/net";
import { ethInput } from "kiln/eth";
import { dhcp } from "kiln/dhcp";

export { kiln_stats } from "kiln/net";

const frame = new Uint8Array(65536);

export function main(): i32 {
  const cfg = Config.fromText('{"ipv4_mode":"dhcp","hostname":"fuzz"}');
  return netStart(cfg, null) ? 0 : 1;
}

export function fuzz_buffer(): usize {
  return frame.dataStart;
}

export function fuzz_frame(len: i32): void {
  if (len < 0 || len > frame.length) return;
  ethInput(frame.dataStart, len);
}

export function fuzz_turn(): void {
  turn(0);
}

export function fuzz_connections(): i32 {
  return tcpStats().active;
}

/** Bit s set for the client's current state (dhcp.ts: INIT 0 … REBINDING 5). */
export function fuzz_states(): u32 {
  return (<u32>1) << <u32>dhcp.state;
}

/** Fires the client's pending timer now (the runner's way to reach renewal on a long lease). */
export function fuzz_fire(): void {
  const t = dhcp.timer;
  if (t == null || !t.active) return;
  t.cancel();
  t.task.run();
}
