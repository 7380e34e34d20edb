// TCP (RFC 9293): segment arrival processing for every state, output, retransmission (RFC 6298),
// fast retransmit and NewReno (RFC 5681, RFC 6582), zero-window probing, TIME_WAIT, backlog.
import { get16, get32, put16, put32, csumAdd, csumFinish } from "./bytes";
import { IpProtocol, ipSend, registerProtocol, pseudoSum, txBuf, L4_OFF, PROTO_TCP, IP_HLEN } from "./ipv4";
import { ifc } from "./netif";
import { nic } from "./eth";
import { nowMs, nowNs, randomU32 } from "./sys";
import { scheduleAtNs, Task } from "./loop";
import { statInc, statSet, ST_RX_DROPPED, ST_TCP_RX, ST_TCP_ACCEPTED, ST_TCP_RESETS, ST_TCP_RETRANSMITS, ST_TCP_LISTENERS } from "./stats";
import { Ring } from "./ring";
import {
  TcpConn, TcpHandler, TcpListener, TcpOps, setTcpOps, seqLt, seqLe,
  CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT,
  F_FIN, F_SYN, F_RST, F_PSH, F_ACK, SND_BUF, OUR_WSCALE,
} from "./tcp-conn";

const MIN_RTO: i64 = 200;
const MAX_RTO: i64 = 60000;
const MSL_MS: i64 = 15000;
const SYN_RETRIES = 6;
const DATA_RETRIES = 15;

export const conns = new Map<u64, TcpConn>();
const listeners = new Map<u16, TcpListener>();
let maxConns = 1024;
let userTimeoutMs: i64 = 120000;

export function setTcpLimits(maxConnections: i32, userTimeout: i64): void {
  if (maxConnections > 0) maxConns = maxConnections;
  if (userTimeout > 0) userTimeoutMs = userTimeout;
}

function connKey(ip: u32, rport: u32, lport: u32): u64 {
  return (<u64>ip << 32) | (<u64>rport << 16) | <u64>lport;
}

export function timeWaitCount(): i32 {
  let n = 0;
  const v = conns.values();
  for (let i = 0; i < v.length; i++) if (v[i].state == TIME_WAIT) n++;
  return n;
}

export function bufferedBytes(): i32 {
  let n = 0;
  const v = conns.values();
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    n += c.rcv.len;
    const snd = c.snd;
    if (snd != null) n += snd.len;
  }
  return n;
}

// ---------------------------------------------------------------- segment output

function ourWindow(c: TcpConn): u32 {
  let w = <u32>c.rcv.space;
  const max: u32 = 65535 << c.rcvShift;
  if (w > max) w = max;
  return w;
}

/** Builds and sends one segment; data comes from the send ring at `dataOff`. */
function sendSegment(c: TcpConn, seq: u32, flags: u32, dataOff: i32, dataLen: i32): void {
  const o = txBuf.dataStart + L4_OFF;
  let hlen = 20;
  if (flags & F_SYN) {
    // MSS, NOP, window scale
    store<u8>(o + 20, 2);
    store<u8>(o + 21, 4);
    put16(o + 22, <u32>(nic.mtu - IP_HLEN - 20));
    store<u8>(o + 24, 1);
    store<u8>(o + 25, 3);
    store<u8>(o + 26, 3);
    store<u8>(o + 27, <u8>OUR_WSCALE);
    hlen = 28;
  }
  put16(o, c.localPort);
  put16(o + 2, c.remotePort);
  put32(o + 4, seq);
  put32(o + 8, (flags & F_ACK) ? c.rcvNxt : 0);
  put16(o + 12, (<u32>(hlen / 4) << 12) | flags);
  const wnd = ourWindow(c);
  // Window field in SYNs is never scaled (RFC 7323 §2.2).
  put16(o + 14, (flags & F_SYN) ? min(wnd, 65535) : wnd >> c.rcvShift);
  put16(o + 16, 0);
  put16(o + 18, 0);
  if (dataLen > 0) c.snd!.copyOut(dataOff, o + hlen, dataLen);
  const len = hlen + dataLen;
  put16(o + 16, csumFinish(csumAdd(pseudoSum(ifc.ip, c.remoteIp, PROTO_TCP, len), o, len)));
  ipSend(c.remoteIp, PROTO_TCP, len);
  c.lastAdvertised = wnd;
  if (flags & F_ACK) c.ackPending = false;
}

/** RST in reply to a segment that has no connection (RFC 9293 §3.10.7.1). */
function sendResetFor(src: u32, sport: u32, dport: u32, seq: u32, ack: u32, flags: u32, segLen: u32): void {
  const o = txBuf.dataStart + L4_OFF;
  put16(o, dport);
  put16(o + 2, sport);
  if (flags & F_ACK) {
    put32(o + 4, ack);
    put32(o + 8, 0);
    put16(o + 12, (5 << 12) | F_RST);
  } else {
    put32(o + 4, 0);
    put32(o + 8, seq + segLen);
    put16(o + 12, (5 << 12) | F_RST | F_ACK);
  }
  put16(o + 14, 0);
  put16(o + 16, 0);
  put16(o + 18, 0);
  put16(o + 16, csumFinish(csumAdd(pseudoSum(ifc.ip, src, PROTO_TCP, 20), o, 20)));
  ipSend(src, PROTO_TCP, 20);
  statInc(ST_TCP_RESETS);
}

function sendAck(c: TcpConn): void {
  // After a timeout rewinds SND.NXT, the peer may already hold bytes up to SND.MAX; an ACK with
  // an older sequence number would fall left of its window and be ignored (BSD uses snd_max too).
  sendSegment(c, c.sndMax, F_ACK, 0, 0);
}

// ---------------------------------------------------------------- timers

const T_NONE = 0;
const T_RTX = 1;
const T_PERSIST = 2;
const T_TIME_WAIT = 3;

// Every ACK moves the retransmission deadline later. Scheduling a fresh heap entry each time
// (and cancelling the old one) cost an allocation and two heap operations per segment, and the
// cancelled entries piled up in the heap; instead the one entry stays and, when it fires before
// `timerDue`, re-arms itself for the rest. Only an earlier deadline schedules a new entry.
class ConnTimer extends Task {
  c: TcpConn;
  constructor(c: TcpConn) {
    super();
    this.c = c;
  }
  run(): void {
    const c = this.c;
    c.timer = null; // an entry replaced by an earlier one was cancelled and never runs
    if (c.timerKind == T_NONE || c.state == CLOSED) return;
    if (c.timerDue > nowNs()) {
      c.timer = scheduleAtNs(c.timerDue, this);
      return;
    }
    const kind = c.timerKind;
    c.timerKind = T_NONE;
    if (kind == T_RTX) onRetransmitTimeout(c);
    else if (kind == T_PERSIST) onPersist(c);
    else if (kind == T_TIME_WAIT) removeConn(c, false);
  }
}

function setTimer(c: TcpConn, kind: i32, ms: i64): void {
  const due = nowNs() + ms * 1000000;
  c.timerKind = kind;
  c.timerDue = due;
  const t = c.timer;
  if (t != null && t.active && t.deadline <= due) return; // fires first, then re-arms
  if (t != null) t.cancel();
  let task = c.timerTask;
  if (task == null) {
    task = new ConnTimer(c);
    c.timerTask = task;
  }
  c.timer = scheduleAtNs(due, task);
}

/** Nothing is due; the heap entry stays and does nothing when it fires (or is reused). */
function clearTimer(c: TcpConn): void {
  c.timerKind = T_NONE;
}

function currentRto(c: TcpConn): i64 {
  let r = c.rto << c.backoff;
  if (r > MAX_RTO || r <= 0) r = MAX_RTO;
  return r;
}

function onRetransmitTimeout(c: TcpConn): void {
  const now = nowMs();
  c.retries++;
  const limit = (c.state == SYN_SENT || c.state == SYN_RECEIVED) ? SYN_RETRIES : DATA_RETRIES;
  if (c.retries > limit || now - c.lastHeard > userTimeoutMs) {
    abortConn(c, true);
    return;
  }
  statInc(ST_TCP_RETRANSMITS);
  c.backoff++;
  c.rttTiming = false; // Karn: no samples across retransmissions
  if (c.state == SYN_SENT) {
    sendSegment(c, c.iss, F_SYN, 0, 0);
    setTimer(c, T_RTX, currentRto(c));
    return;
  }
  if (c.state == SYN_RECEIVED) {
    sendSegment(c, c.iss, F_SYN | F_ACK, 0, 0);
    setTimer(c, T_RTX, currentRto(c));
    return;
  }
  // RFC 5681 §3.1: loss window; go back to the first unacknowledged byte.
  const flight = c.inFlight;
  c.ssthresh = max(flight / 2, <u32>(2 * c.mss));
  c.cwnd = <u32>c.mss;
  c.inRecovery = false;
  c.dupAcks = 0;
  c.recover = c.sndNxt;
  c.sndNxt = c.sndUna;
  c.finSent = false;
  output(c, true);
  if (c.timerKind != T_RTX) setTimer(c, T_RTX, currentRto(c));
}

function onPersist(c: TcpConn): void {
  if (c.sndWnd != 0 || c.unsent <= 0 || c.inFlight != 0) {
    output(c, false);
    return;
  }
  if (nowMs() - c.lastHeard > userTimeoutMs) {
    abortConn(c, true);
    return;
  }
  // Zero-window probe: one byte past the window; the peer answers with its current window.
  sendSegment(c, c.sndNxt, F_ACK, 0, 1);
  c.backoff = min(c.backoff + 1, 10);
  setTimer(c, T_PERSIST, currentRto(c));
}

function rttSample(c: TcpConn, ms: i64): void {
  if (ms < 1) ms = 1;
  if (c.srtt == 0) {
    c.srtt = ms;
    c.rttvar = ms / 2;
  } else {
    const d = c.srtt > ms ? c.srtt - ms : ms - c.srtt;
    c.rttvar = (3 * c.rttvar + d) / 4;
    c.srtt = (7 * c.srtt + ms) / 8;
  }
  let rto = c.srtt + max<i64>(10, 4 * c.rttvar);
  if (rto < MIN_RTO) rto = MIN_RTO;
  if (rto > MAX_RTO) rto = MAX_RTO;
  c.rto = rto;
}

// ---------------------------------------------------------------- output

/** Sends as much queued data (and the FIN) as the windows allow, or a pure ACK when owed. */
function output(c: TcpConn, forceAck: bool): void {
  const st = c.state;
  if (st == CLOSED || st == SYN_SENT || st == SYN_RECEIVED || st == TIME_WAIT) {
    if (forceAck && st == TIME_WAIT) sendAck(c);
    return;
  }
  let sent = false;
  const snd = c.snd;
  while (snd != null) {
    const unsent = c.unsent;
    if (unsent <= 0) break;
    const wnd = min(c.sndWnd, c.cwnd);
    const flight = c.inFlight;
    if (wnd <= flight) break;
    const sentData = <i32>flight - (c.finSent ? 1 : 0);
    const n = min(min(unsent, c.mss), <i32>(wnd - flight));
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): no tiny segments while data is in flight.
    if (n < c.mss && n < unsent && flight > 0) break;
    const flags = F_ACK | (n == unsent ? F_PSH : 0);
    sendSegment(c, c.sndNxt, flags, sentData, n);
    if (!c.rttTiming && c.sndNxt == c.sndMax) {
      c.rttTiming = true;
      c.rttSeq = c.sndNxt;
      c.rttStart = nowMs();
    }
    c.sndNxt += <u32>n;
    if (seqLt(c.sndMax, c.sndNxt)) c.sndMax = c.sndNxt;
    sent = true;
  }
  if (c.finQueued && !c.finSent && c.unsent <= 0) {
    sendSegment(c, c.sndNxt, F_FIN | F_ACK, 0, 0);
    c.sndNxt += 1;
    if (seqLt(c.sndMax, c.sndNxt)) c.sndMax = c.sndNxt;
    c.finSent = true;
    sent = true;
  }
  if (!sent && (forceAck || c.ackPending)) sendAck(c);
  if (c.inFlight > 0) {
    if (c.timerKind != T_RTX) setTimer(c, T_RTX, currentRto(c));
  } else if (c.unsent > 0 && c.sndWnd == 0) {
    if (c.timerKind != T_PERSIST) setTimer(c, T_PERSIST, currentRto(c));
  } else if (c.timerKind == T_RTX || c.timerKind == T_PERSIST) clearTimer(c);
}

/** Retransmits the first unacknowledged segment (fast retransmit / partial ACK). */
function retransmitFirst(c: TcpConn): void {
  statInc(ST_TCP_RETRANSMITS);
  const snd = c.snd;
  const dataInFlight = <i32>c.inFlight - (c.finSent ? 1 : 0);
  if (dataInFlight > 0 && snd != null) {
    sendSegment(c, c.sndUna, F_ACK, 0, min(dataInFlight, c.mss));
  } else if (c.finSent) {
    sendSegment(c, c.sndNxt - 1, F_FIN | F_ACK, 0, 0);
  }
  c.rttTiming = false;
}

// ---------------------------------------------------------------- connection lifecycle

/** Gives the connection's ring storage back to the shared budget (ring.ts). */
function releaseBuffers(c: TcpConn): void {
  const snd = c.snd;
  if (snd != null) snd.release();
  c.snd = null;
  c.rcv.release();
  c.ooo = [];
}

function removeConn(c: TcpConn, notify: bool): void {
  const wasHalfOpen = c.state == SYN_RECEIVED;
  c.state = CLOSED;
  clearTimer(c);
  if (conns.has(c.key) && conns.get(c.key) == c) conns.delete(c.key);
  const l = c.listener;
  if (wasHalfOpen && l != null) l.halfOpen--;
  releaseBuffers(c);
  if (!c.closeNotified) {
    c.closeNotified = true;
    if (notify) c.handler.onClose(c);
  }
}

function abortConn(c: TcpConn, sendRst: bool): void {
  if (sendRst && c.state != SYN_SENT && c.state != CLOSED) {
    sendSegment(c, c.sndNxt, F_RST | F_ACK, 0, 0);
    statInc(ST_TCP_RESETS);
  }
  const established = c.state != SYN_RECEIVED && c.state != SYN_SENT;
  removeConn(c, established || c.listener == null);
}

function enterTimeWait(c: TcpConn): void {
  c.state = TIME_WAIT;
  releaseBuffers(c);
  setTimer(c, T_TIME_WAIT, 2 * MSL_MS);
  if (!c.closeNotified) {
    c.closeNotified = true;
    c.handler.onClose(c);
  }
}

function established(c: TcpConn): void {
  c.state = ESTABLISHED;
  const old = c.snd;
  if (old != null) old.release();
  c.snd = new Ring(SND_BUF);
  c.cwnd = <u32>(c.mss * (c.mss > 2190 ? 2 : c.mss > 1095 ? 3 : 4)); // RFC 5681 initial window
  c.backoff = 0;
  c.retries = 0;
  const l = c.listener;
  if (l != null) {
    l.halfOpen--;
    statInc(ST_TCP_ACCEPTED);
  }
  c.handler.onAccept(c);
}

// ---------------------------------------------------------------- delivery to the app

function deliver(c: TcpConn): void {
  let rounds = 0;
  while (c.rcv.len > 0 && c.state != CLOSED && c.state != TIME_WAIT && rounds < 64) {
    rounds++;
    const n = c.rcv.len;
    const data = new Uint8Array(n);
    c.rcv.copyOut(0, data.dataStart, n);
    const before = c.rcv.space;
    let used = c.handler.onData(c, data);
    if (c.state == CLOSED || c.state == TIME_WAIT) return;
    if (used < 0) used = 0;
    if (used > n) used = n;
    if (used == 0) break;
    c.rcv.drop(used);
    // Receiver SWS avoidance: announce the reopened window once it is worth a segment.
    if (before < c.mss && c.rcv.space >= c.mss) c.ackPending = true;
  }
  if (c.finReceived && c.rcv.len == 0 && !c.peerClosedNotified && c.state != CLOSED) {
    c.peerClosedNotified = true;
    c.handler.onPeerClosed(c);
  }
}

/** The send ring freed space: tell a writer that was blocked. */
function writable(c: TcpConn): void {
  if (c.writeBlocked && c.sendSpace() > 0) {
    c.writeBlocked = false;
    c.handler.onWritable(c);
    // Data the app could not consume for lack of send space gets another chance.
    if (c.rcv.len > 0) deliver(c);
  }
}

// ---------------------------------------------------------------- input

class SegOptions {
  mss: i32 = 536;
  wscale: i32 = -1;
}
const segOpts = new SegOptions();

function parseOptions(p: usize, len: i32): void {
  segOpts.mss = 536;
  segOpts.wscale = -1;
  let i = 0;
  while (i < len) {
    const kind = load<u8>(p + i);
    if (kind == 0) break;
    if (kind == 1) {
      i++;
      continue;
    }
    if (i + 1 >= len) break;
    const olen = <i32>load<u8>(p + i + 1);
    if (olen < 2 || i + olen > len) break;
    if (kind == 2 && olen == 4) segOpts.mss = <i32>get16(p + i + 2);
    else if (kind == 3 && olen == 3) segOpts.wscale = min(<i32>load<u8>(p + i + 2), 14);
    i += olen;
  }
}

function newIss(): u32 {
  return randomU32();
}

function applySynOptions(c: TcpConn, synWscale: bool): void {
  let mss = segOpts.mss;
  const ourMss = nic.mtu - IP_HLEN - 20;
  if (mss > ourMss) mss = ourMss;
  if (mss < 64) mss = 64;
  c.mss = mss;
  if (segOpts.wscale >= 0 && synWscale) {
    c.sndShift = <u32>segOpts.wscale;
    c.rcvShift = OUR_WSCALE;
  } else {
    c.sndShift = 0;
    c.rcvShift = 0;
  }
}

function onListen(l: TcpListener, src: u32, sport: u32, dport: u32, seq: u32, ack: u32, flags: u32, wnd: u32, segLen: u32): void {
  if (flags & F_RST) return;
  if (flags & F_ACK) {
    sendResetFor(src, sport, dport, seq, ack, flags, segLen);
    return;
  }
  if ((flags & F_SYN) == 0) return;
  // Backlog: half-open connections per listener; plus the global connection limit.
  if (l.halfOpen >= l.backlog || conns.size >= maxConns) {
    statInc(ST_RX_DROPPED);
    return;
  }
  const c = new TcpConn(src, <u16>sport, <u16>dport, l.handler);
  c.key = connKey(src, sport, dport);
  c.listener = l;
  l.halfOpen++;
  applySynOptions(c, true);
  c.irs = seq;
  c.rcvNxt = seq + 1;
  c.iss = newIss();
  c.sndUna = c.iss;
  c.sndNxt = c.iss + 1;
  c.sndMax = c.sndNxt;
  c.sndWnd = wnd; // SYN windows are unscaled
  c.sndWl1 = seq;
  c.sndWl2 = c.iss;
  c.state = SYN_RECEIVED;
  c.lastHeard = nowMs();
  conns.set(c.key, c);
  sendSegment(c, c.iss, F_SYN | F_ACK, 0, 0);
  c.rttTiming = true;
  c.rttSeq = c.iss;
  c.rttStart = nowMs();
  setTimer(c, T_RTX, currentRto(c));
}

function onSynSent(c: TcpConn, seq: u32, ack: u32, flags: u32, wnd: u32): void {
  if (flags & F_ACK) {
    if (seqLe(ack, c.iss) || seqLt(c.sndNxt, ack)) {
      if ((flags & F_RST) == 0) sendResetFor(c.remoteIp, c.remotePort, c.localPort, seq, ack, flags, 0);
      return;
    }
  }
  if (flags & F_RST) {
    if (flags & F_ACK) abortConn(c, false); // connection refused
    return;
  }
  if ((flags & F_SYN) == 0) return;
  applySynOptions(c, true);
  c.irs = seq;
  c.rcvNxt = seq + 1;
  c.lastHeard = nowMs();
  if (flags & F_ACK) {
    c.sndUna = ack;
    c.sndWnd = wnd << c.sndShift;
    c.sndWl1 = seq;
    c.sndWl2 = ack;
    if (c.rttTiming) rttSample(c, nowMs() - c.rttStart);
    c.rttTiming = false;
    clearTimer(c);
    established(c);
    if (c.state == ESTABLISHED) output(c, true);
  } else {
    // Simultaneous open.
    c.state = SYN_RECEIVED;
    sendSegment(c, c.iss, F_SYN | F_ACK, 0, 0);
  }
}

function acceptable(c: TcpConn, seq: u32, segLen: u32): bool {
  const wnd = <u32>c.rcv.space;
  if (segLen == 0) {
    // Inclusive right edge, as Linux does: a peer that filled our window exactly sends its pure
    // ACKs with SEG.SEQ = RCV.NXT + RCV.WND, and those ACKs must not be lost.
    return seqLe(c.rcvNxt, seq) && seqLe(seq, c.rcvNxt + wnd);
  }
  if (wnd == 0) return false;
  const end = seq + segLen - 1;
  return (seqLe(c.rcvNxt, seq) && seqLt(seq, c.rcvNxt + wnd)) || (seqLe(c.rcvNxt, end) && seqLt(end, c.rcvNxt + wnd));
}

/** ACK processing (RFC 9293 §3.10.7.4, fifth check); false when the segment must be dropped. */
function processAck(c: TcpConn, seq: u32, ack: u32, wnd: u32, dataLen: i32, flags: u32): bool {
  if (c.state == SYN_RECEIVED) {
    if (seqLt(c.sndUna, ack) && seqLe(ack, c.sndNxt)) {
      if (c.rttTiming) rttSample(c, nowMs() - c.rttStart);
      c.rttTiming = false;
      c.sndUna = ack;
      c.sndWnd = wnd << c.sndShift;
      c.sndWl1 = seq;
      c.sndWl2 = ack;
      clearTimer(c);
      established(c);
      if (c.state != ESTABLISHED) return false;
      if (c.finQueued) {
        // The app closed during the handshake.
        c.state = FIN_WAIT_1;
        output(c, false);
      }
    } else {
      sendResetFor(c.remoteIp, c.remotePort, c.localPort, seq, ack, flags, 0);
      return false;
    }
    return true;
  }
  // Distances from SND.UNA, unsigned: an ACK exactly 2^31 away is both before and after SND.UNA
  // to seqLt, and taking it as new once acknowledged 2^31 bytes (the send ring's length wrapped).
  const ackOff: u32 = ack - c.sndUna;
  if (ackOff > c.sndNxt - c.sndUna && ackOff < 0x80000000) {
    // ACK for data we never sent (may happen after go-back-N: accept up to sndMax).
    if (ackOff <= c.sndMax - c.sndUna) c.sndNxt = ack;
    else {
      sendAck(c);
      return false;
    }
  }
  const scaled = wnd << c.sndShift;
  if (ackOff != 0 && ackOff <= c.sndNxt - c.sndUna) {
    let acked = ackOff;
    let finAcked = false;
    if (c.finSent && ack == c.sndNxt) {
      finAcked = true;
      acked -= 1;
    }
    const snd = c.snd;
    if (snd != null) snd.drop(<i32>acked);
    c.sndUna = ack;
    if (c.rttTiming && seqLt(c.rttSeq, ack)) {
      rttSample(c, nowMs() - c.rttStart);
      c.rttTiming = false;
    }
    c.backoff = 0;
    c.retries = 0;
    // Congestion control.
    const mss = <u32>c.mss;
    if (c.inRecovery) {
      if (seqLe(c.recover, ack)) {
        // Full acknowledgment: leave fast recovery (RFC 6582 §3.2 step 3).
        c.cwnd = min(c.ssthresh, max(c.inFlight, mss) + mss);
        c.inRecovery = false;
        c.dupAcks = 0;
      } else {
        // Partial acknowledgment: retransmit the next hole, deflate (step 4).
        retransmitFirst(c);
        c.cwnd = c.cwnd > acked ? c.cwnd - acked + mss : mss;
      }
    } else {
      c.dupAcks = 0;
      if (c.cwnd < c.ssthresh) c.cwnd += min(acked, mss);
      else c.cwnd += max<u32>(1, mss * mss / c.cwnd);
    }
    if (c.cwnd > 4 * 1024 * 1024) c.cwnd = 4 * 1024 * 1024;
    if (finAcked) {
      if (c.state == FIN_WAIT_1) c.state = FIN_WAIT_2;
      else if (c.state == CLOSING) {
        enterTimeWait(c);
        return false;
      } else if (c.state == LAST_ACK) {
        removeConn(c, true);
        return false;
      }
    }
    if (c.inFlight == 0) clearTimer(c);
    else setTimer(c, T_RTX, currentRto(c));
    if (snd != null && c.writeBlocked) writable(c);
    if (c.state == CLOSED) return false;
  } else if (ack == c.sndUna && dataLen == 0 && (flags & (F_SYN | F_FIN)) == 0 && scaled == c.sndWnd && c.inFlight > 0) {
    // Duplicate ACK (RFC 5681 §2).
    c.dupAcks++;
    const mss = <u32>c.mss;
    if (c.dupAcks == 3 && !c.inRecovery && seqLt(c.recover, ack + 1)) {
      c.ssthresh = max(c.inFlight / 2, 2 * mss);
      c.recover = c.sndNxt;
      retransmitFirst(c);
      c.cwnd = c.ssthresh + 3 * mss;
      c.inRecovery = true;
    } else if (c.dupAcks > 3 && c.inRecovery) {
      c.cwnd += mss; // inflate: one segment left the network
    }
  }
  // Window update (SND.WL1/WL2 rule).
  if (seqLt(c.sndWl1, seq) || (c.sndWl1 == seq && seqLe(c.sndWl2, ack))) {
    c.sndWnd = scaled;
    c.sndWl1 = seq;
    c.sndWl2 = ack;
  }
  return true;
}

/** Stores in-window data; in-order bytes extend rcvNxt, the rest waits in the ring. */
function receiveData(c: TcpConn, seq: u32, p: usize, n: i32): void {
  // Trim what we already have and what exceeds the window.
  if (seqLt(seq, c.rcvNxt)) {
    const skip = <i32>(c.rcvNxt - seq);
    if (skip >= n) return;
    p += skip;
    n -= skip;
    seq = c.rcvNxt;
  }
  const offset = <i32>(seq - c.rcvNxt);
  const room = c.rcv.space - offset;
  if (room <= 0) return;
  if (n > room) n = room;
  c.rcv.copyIn(c.rcv.len + offset, p, n);
  if (offset == 0) {
    c.rcv.len += n;
    c.rcvNxt += <u32>n;
  } else insertInterval(c, seq, seq + <u32>n);
  // Pull in out-of-order data that is now contiguous.
  while (c.ooo.length > 0) {
    const iv = c.ooo[0];
    const s = <u32>(iv >> 32);
    const e = <u32>iv;
    if (seqLt(c.rcvNxt, s)) break;
    c.ooo.shift();
    if (seqLt(c.rcvNxt, e)) {
      c.rcv.len += <i32>(e - c.rcvNxt);
      c.rcvNxt = e;
    }
  }
}

function insertInterval(c: TcpConn, s: u32, e: u32): void {
  // Merge with overlapping/adjacent intervals; keep the list sorted and short.
  const out: Array<u64> = [];
  let inserted = false;
  for (let i = 0; i < c.ooo.length; i++) {
    const is = <u32>(c.ooo[i] >> 32);
    const ie = <u32>c.ooo[i];
    if (seqLt(ie, s)) out.push(c.ooo[i]);
    else if (seqLt(e, is)) {
      if (!inserted) {
        out.push((<u64>s << 32) | <u64>e);
        inserted = true;
      }
      out.push(c.ooo[i]);
    } else {
      if (seqLt(is, s)) s = is;
      if (seqLt(e, ie)) e = ie;
    }
  }
  if (!inserted) out.push((<u64>s << 32) | <u64>e);
  if (out.length > 64) out.length = 64;
  c.ooo = out;
}

function onSegment(c: TcpConn, seq: u32, ack: u32, flags: u32, wnd: u32, p: usize, dataLen: i32): void {
  let segLen = <u32>dataLen + ((flags & F_SYN) ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
  // First check: sequence number.
  if (!acceptable(c, seq, segLen)) {
    if ((flags & F_RST) == 0) sendAck(c);
    // An old duplicate (entirely left of RCV.NXT, within a window) still carries a valid
    // acknowledgment: process it so retransmitted data does not hide new ACKs (as BSD does).
    const behind = c.rcvNxt - (seq + segLen);
    if ((flags & (F_RST | F_SYN)) == 0 && (flags & F_ACK) != 0 && <i32>behind >= 0 && behind < (<u32>65536 << c.rcvShift)) {
      c.lastHeard = nowMs();
      if (c.state != SYN_RECEIVED && processAck(c, seq, ack, wnd, dataLen + 1, flags) && c.state != CLOSED && c.state != TIME_WAIT) output(c, false);
    }
    return;
  }
  c.lastHeard = nowMs();
  // Second: RST (RFC 5961 §3: exact match resets, otherwise challenge ACK).
  if (flags & F_RST) {
    if (seq != c.rcvNxt) {
      sendAck(c);
      return;
    }
    statInc(ST_TCP_RESETS);
    if (c.state == SYN_RECEIVED && c.listener != null) removeConn(c, false);
    else removeConn(c, true);
    return;
  }
  // Fourth: SYN in a synchronized state (RFC 5961 §4): challenge ACK.
  if (flags & F_SYN) {
    if (c.state == SYN_RECEIVED && c.listener != null && seq == c.irs) {
      // Retransmitted SYN: our SYN-ACK was lost.
      sendSegment(c, c.iss, F_SYN | F_ACK, 0, 0);
      return;
    }
    sendAck(c);
    return;
  }
  if ((flags & F_ACK) == 0) return;
  if (!processAck(c, seq, ack, wnd, dataLen, flags)) return;
  if (c.state == CLOSED) return;
  // Seventh: data.
  const st = c.state;
  if (dataLen > 0) {
    if (st == ESTABLISHED || st == FIN_WAIT_1 || st == FIN_WAIT_2) {
      receiveData(c, seq, p, dataLen);
      c.ackPending = true;
    } else c.ackPending = true;
  }
  // Eighth: FIN, only once everything before it arrived.
  if ((flags & F_FIN) && seq + <u32>dataLen == c.rcvNxt && !c.finReceived) {
    c.finReceived = true;
    c.rcvNxt += 1;
    c.ackPending = true;
    if (st == ESTABLISHED) c.state = CLOSE_WAIT;
    else if (st == FIN_WAIT_1) {
      // Our FIN not yet acknowledged (else processAck moved us to FIN_WAIT_2).
      c.state = CLOSING;
    } else if (st == FIN_WAIT_2) {
      sendAck(c);
      deliver(c);
      if (c.state != CLOSED) enterTimeWait(c);
      return;
    }
  } else if ((flags & F_FIN) && st == TIME_WAIT) {
    sendAck(c);
    setTimer(c, T_TIME_WAIT, 2 * MSL_MS);
    return;
  }
  deliver(c);
  if (c.state == CLOSED || c.state == TIME_WAIT) return;
  output(c, false);
}

class Tcp extends IpProtocol {
  receive(src: u32, dst: u32, p: usize, len: i32): void {
    if (len < 20 || dst != ifc.ip || ifc.ip == 0) return statInc(ST_RX_DROPPED);
    if (csumFinish(csumAdd(pseudoSum(src, dst, PROTO_TCP, len), p, len)) != 0) return statInc(ST_RX_DROPPED);
    const off = <i32>(load<u8>(p + 12) >> 4) * 4;
    if (off < 20 || off > len) return statInc(ST_RX_DROPPED);
    const sport = get16(p);
    const dport = get16(p + 2);
    if (sport == 0 || dport == 0) return statInc(ST_RX_DROPPED);
    statInc(ST_TCP_RX);
    const seq = get32(p + 4);
    const ack = get32(p + 8);
    const flags = get16(p + 12) & 0x3f;
    const wnd = get16(p + 14);
    const dataLen = len - off;
    if (flags & F_SYN) parseOptions(p + 20, off - 20);
    const key = connKey(src, sport, dport);
    if (conns.has(key)) {
      const c = conns.get(key);
      // A new SYN beyond a TIME_WAIT connection's sequence space reopens it (RFC 6191 idea).
      if (c.state == TIME_WAIT && (flags & (F_SYN | F_ACK | F_RST)) == F_SYN && seqLt(c.rcvNxt, seq) && listeners.has(<u16>dport)) {
        removeConn(c, false);
        onListen(listeners.get(<u16>dport), src, sport, dport, seq, ack, flags, wnd, <u32>dataLen + 1);
        return;
      }
      if (c.state == SYN_SENT) onSynSent(c, seq, ack, flags, wnd);
      else onSegment(c, seq, ack, flags, wnd, p + off, dataLen);
      return;
    }
    const segLen = <u32>dataLen + ((flags & F_SYN) ? 1 : 0) + ((flags & F_FIN) ? 1 : 0);
    if (listeners.has(<u16>dport)) {
      onListen(listeners.get(<u16>dport), src, sport, dport, seq, ack, flags, wnd, segLen);
      return;
    }
    if ((flags & F_RST) == 0) sendResetFor(src, sport, dport, seq, ack, flags, segLen);
  }
}

class Ops extends TcpOps {
  write(c: TcpConn, p: usize, n: i32): i32 {
    const snd = c.snd;
    if (!c.isOpenForWrite || snd == null || n <= 0) return 0;
    const took = snd.push(p, n);
    if (took < n) c.writeBlocked = true;
    output(c, false);
    return took;
  }
  close(c: TcpConn): void {
    const st = c.state;
    if (st == SYN_SENT) removeConn(c, true);
    else if (st == SYN_RECEIVED || st == ESTABLISHED) {
      c.finQueued = true;
      if (st == SYN_RECEIVED) return; // FIN follows the handshake (no data sent yet)
      c.state = FIN_WAIT_1;
      output(c, false);
    } else if (st == CLOSE_WAIT) {
      c.finQueued = true;
      c.state = LAST_ACK;
      output(c, false);
    }
  }
  abort(c: TcpConn): void {
    if (c.state != CLOSED && c.state != TIME_WAIT) abortConn(c, true);
  }
}

// ---------------------------------------------------------------- public entry points

export function tcpInit(): void {
  setTcpOps(new Ops());
  registerProtocol(PROTO_TCP, new Tcp());
}

export function tcpListen(port: u16, h: TcpHandler, backlog: i32 = 128): TcpListener | null {
  if (port == 0 || listeners.has(port)) return null;
  const l = new TcpListener(port, h, backlog > 0 ? backlog : 1);
  listeners.set(port, l);
  statSet(ST_TCP_LISTENERS, listeners.size);
  return l;
}

export function tcpUnlisten(l: TcpListener): void {
  if (listeners.has(l.port) && listeners.get(l.port) == l) listeners.delete(l.port);
  l.open = false;
  statSet(ST_TCP_LISTENERS, listeners.size);
}

let nextEphemeral: u32 = 0;

export function tcpConnect(ip: u32, port: u16, h: TcpHandler): TcpConn | null {
  if (ifc.ip == 0 || port == 0 || conns.size >= maxConns) return null;
  if (nextEphemeral == 0) nextEphemeral = 49152 + randomU32() % 16384;
  let lport: u32 = 0;
  for (let i = 0; i < 16384; i++) {
    const cand = 49152 + (nextEphemeral++ % 16384);
    if (!conns.has(connKey(ip, port, cand)) && !listeners.has(<u16>cand)) {
      lport = cand;
      break;
    }
  }
  if (lport == 0) return null;
  const c = new TcpConn(ip, port, <u16>lport, h);
  c.key = connKey(ip, port, lport);
  c.iss = newIss();
  c.sndUna = c.iss;
  c.sndNxt = c.iss + 1;
  c.sndMax = c.sndNxt;
  c.state = SYN_SENT;
  c.mss = nic.mtu - IP_HLEN - 20;
  c.rcvShift = 0;
  c.lastHeard = nowMs();
  conns.set(c.key, c);
  sendSegment(c, c.iss, F_SYN, 0, 0);
  c.rttTiming = true;
  c.rttSeq = c.iss;
  c.rttStart = nowMs();
  setTimer(c, T_RTX, currentRto(c));
  return c;
}
