// TCP connection state and the appliance-facing connection/handler classes.
import { Ring } from "./ring";
import { Task, Timer } from "./loop";

export const CLOSED = 0;
export const LISTEN = 1;
export const SYN_SENT = 2;
export const SYN_RECEIVED = 3;
export const ESTABLISHED = 4;
export const FIN_WAIT_1 = 5;
export const FIN_WAIT_2 = 6;
export const CLOSE_WAIT = 7;
export const CLOSING = 8;
export const LAST_ACK = 9;
export const TIME_WAIT = 10;

export const F_FIN: u32 = 1;
export const F_SYN: u32 = 2;
export const F_RST: u32 = 4;
export const F_PSH: u32 = 8;
export const F_ACK: u32 = 16;
export const F_URG: u32 = 32;

export const SND_BUF = 65536;
export const RCV_BUF = 65536;
export const OUR_WSCALE: u32 = 2;

// @ts-ignore: decorator
@inline export function seqLt(a: u32, b: u32): bool {
  return <i32>(a - b) < 0;
}
// @ts-ignore: decorator
@inline export function seqLe(a: u32, b: u32): bool {
  return <i32>(a - b) <= 0;
}

/** Callbacks of a listener or an active connection (see README.md for the contract). */
export abstract class TcpHandler {
  onAccept(c: TcpConn): void {}
  abstract onData(c: TcpConn, data: Uint8Array): i32;
  onWritable(c: TcpConn): void {}
  onPeerClosed(c: TcpConn): void {}
  onClose(c: TcpConn): void {}
}

export class TcpListener {
  port: u16;
  handler: TcpHandler;
  backlog: i32;
  halfOpen: i32 = 0;
  open: bool = true;
  constructor(port: u16, handler: TcpHandler, backlog: i32) {
    this.port = port;
    this.handler = handler;
    this.backlog = backlog;
  }
}

let nextConnId: i32 = 1;

export class TcpConn {
  id: i32 = nextConnId++;
  key: u64 = 0;
  state: i32 = CLOSED;
  remoteIp: u32;
  remotePort: u16;
  localPort: u16;
  handler: TcpHandler;
  listener: TcpListener | null = null;

  // send side (RFC 9293 names)
  iss: u32 = 0;
  sndUna: u32 = 0;
  sndNxt: u32 = 0;
  sndMax: u32 = 0; // highest sequence sent, for go-back-N after a timeout
  sndWnd: u32 = 0;
  sndWl1: u32 = 0;
  sndWl2: u32 = 0;
  sndShift: u32 = 0; // peer's window scale
  mss: i32 = 536;
  snd: Ring | null = null;
  finQueued: bool = false; // the app closed: FIN goes after the queued data
  finSent: bool = false;
  writeBlocked: bool = false; // write() returned short: call onWritable when space frees

  // receive side
  irs: u32 = 0;
  rcvNxt: u32 = 0;
  rcvShift: u32 = 0; // our window scale, when the peer agreed
  rcv: Ring = new Ring(RCV_BUF);
  ooo: Array<u64> = []; // out-of-order intervals [start, end) as (start << 32 | end), sorted
  finReceived: bool = false;
  peerClosedNotified: bool = false;
  closeNotified: bool = false;
  lastAdvertised: u32 = 0; // window last advertised (bytes)
  ackPending: bool = false;

  // timers and congestion control (RFC 6298, RFC 5681, RFC 6582)
  // One timer entry per connection, re-armed lazily (tcp.ts setTimer): `timer` is the entry in
  // the loop's heap (null when none), `timerDue` when the current kind is really due.
  timer: Timer | null = null;
  timerKind: i32 = 0;
  timerDue: i64 = 0;
  timerTask: Task | null = null;
  srtt: i64 = 0; // ms, 0 = no sample yet
  rttvar: i64 = 0;
  rto: i64 = 1000;
  backoff: i32 = 0;
  rttSeq: u32 = 0;
  rttStart: i64 = 0;
  rttTiming: bool = false;
  cwnd: u32 = 0;
  ssthresh: u32 = 0xffffffff;
  dupAcks: i32 = 0;
  inRecovery: bool = false;
  recover: u32 = 0;
  lastHeard: i64 = 0;
  retries: i32 = 0;

  constructor(remoteIp: u32, remotePort: u16, localPort: u16, handler: TcpHandler) {
    this.remoteIp = remoteIp;
    this.remotePort = remotePort;
    this.localPort = localPort;
    this.handler = handler;
  }

  /** Bytes sent but not acknowledged, SYN/FIN included. */
  get inFlight(): u32 {
    return this.sndNxt - this.sndUna;
  }

  /** Queued data bytes not sent yet. */
  get unsent(): i32 {
    const snd = this.snd;
    if (snd == null) return 0;
    let sentData = <i32>(this.sndNxt - this.sndUna);
    if (this.finSent) sentData -= 1;
    if (this.state == SYN_SENT || this.state == SYN_RECEIVED) sentData = 0;
    return snd.len - sentData;
  }

  get isOpenForWrite(): bool {
    return (this.state == ESTABLISHED || this.state == CLOSE_WAIT) && !this.finQueued;
  }

  sendSpace(): i32 {
    const snd = this.snd;
    if (!this.isOpenForWrite || snd == null) return 0;
    return snd.space;
  }

  write(data: Uint8Array): i32 {
    return tcpWriteHook!.write(this, data.dataStart, data.length);
  }

  writeString(s: string): i32 {
    return this.write(Uint8Array.wrap(String.UTF8.encode(s)));
  }

  close(): void {
    tcpWriteHook!.close(this);
  }

  abort(): void {
    tcpWriteHook!.abort(this);
  }
}

/** Implemented by tcp.ts (kept apart so this file has no dependency on the state machine). */
export abstract class TcpOps {
  abstract write(c: TcpConn, p: usize, n: i32): i32;
  abstract close(c: TcpConn): void;
  abstract abort(c: TcpConn): void;
}
export let tcpWriteHook: TcpOps | null = null;
export function setTcpOps(ops: TcpOps): void {
  tcpWriteHook = ops;
}
