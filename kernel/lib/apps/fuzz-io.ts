// The exports every fuzz harness appliance gives the runner (kernel/lib/fuzz/runner.ts): a frame
// buffer, feeding one frame to the stack, one event-loop turn, the number of TCP connections.
import { turn, pendingTimers } from "kiln/loop";
import { tcpStats } from "kiln/net";
import { ethInput } from "kiln/eth";

const frame = new Uint8Array(65536);

export function fuzz_buffer(): usize {
  return frame.dataStart;
}

export function fuzz_frame(len: i32): void {
  if (len < 0 || len > frame.length) return;
  ethInput(frame.dataStart, len);
}

/** One event-loop turn without sleeping: runs due timers (the host advances the clock). */
export function fuzz_turn(): void {
  turn(0);
}

export function fuzz_connections(): i32 {
  return tcpStats().active;
}

/** Timers in the event loop's heap, cancelled ones not yet dropped included. */
export function fuzz_timers(): i32 {
  return pendingTimers();
}
