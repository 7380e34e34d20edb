// Fuzz harness appliance for the DHCP client: the stack brought up with ipv4_mode "dhcp" and fed
// frame by frame by kernel/lib/fuzz/runner.ts (the dhcp target answers its DISCOVERs and REQUESTs).
import { Config } from "kiln/config";
import { netStart } from "kiln/net";
import { dhcp } from "kiln/dhcp";

export { kiln_stats } from "kiln/net";
export { fuzz_buffer, fuzz_frame, fuzz_turn, fuzz_connections, fuzz_timers } from "./fuzz-io";

export function main(): i32 {
  const cfg = Config.fromText('{"ipv4_mode":"dhcp","hostname":"fuzz"}');
  return netStart(cfg, null) ? 0 : 1;
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
