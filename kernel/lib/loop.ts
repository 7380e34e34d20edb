// The event loop: timers, deferred tasks and NIC readiness, sleeping in kiln.yield.
import { nowNs, sysYield } from "./sys";

export abstract class Task {
  abstract run(): void;
}

export class Timer {
  deadline: i64;
  task: Task;
  active: bool = true;
  /** In the heap (cancelled timers stay there until they reach the top or the heap is compacted). */
  queued: bool = false;
  constructor(deadline: i64, task: Task) {
    this.deadline = deadline;
    this.task = task;
  }
  cancel(): void {
    if (this.active && this.queued) cancelledQueued++;
    this.active = false;
  }
}

/** Called by the loop with the ready set returned by yield; net.ts installs it. */
export abstract class Poller {
  abstract poll(ready: i64): void;
}

// A binary min-heap of timers by deadline; cancelled timers are dropped lazily, when they reach
// the top, or all at once when they are most of the heap: a timer re-armed again and again with a
// far deadline (a DHCP lease of years) would otherwise leave a dead entry behind each time.
let heap: Array<Timer> = [];
let cancelledQueued: i32 = 0;
let deferred: Array<Task> = [];
let pollers: Array<Poller> = [];
let stopped = false;
let exitStatus: i32 = 0;

function heapPush(t: Timer): void {
  if (cancelledQueued > 64 && cancelledQueued * 2 > heap.length) compact();
  t.queued = true;
  heap.push(t);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (heap[p].deadline <= heap[i].deadline) break;
    const tmp = heap[p];
    heap[p] = heap[i];
    heap[i] = tmp;
    i = p;
  }
}

/** Drops every cancelled timer and restores the heap order (sift-down from the last parent). */
function compact(): void {
  const live: Array<Timer> = [];
  for (let i = 0; i < heap.length; i++) {
    if (heap[i].active) live.push(heap[i]);
    else heap[i].queued = false;
  }
  heap = live;
  cancelledQueued = 0;
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
}

function siftDown(start: i32): void {
  const n = heap.length;
  let i = start;
  while (true) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && heap[l].deadline < heap[m].deadline) m = l;
    if (r < n && heap[r].deadline < heap[m].deadline) m = r;
    if (m == i) break;
    const tmp = heap[m];
    heap[m] = heap[i];
    heap[i] = tmp;
    i = m;
  }
}

function heapPop(): Timer {
  const top = heap[0];
  top.queued = false;
  if (!top.active) cancelledQueued--;
  const last = heap.pop();
  const n = heap.length;
  if (n > 0) {
    heap[0] = last;
    siftDown(0);
  }
  return top;
}

export function schedule(delayMs: i64, task: Task): Timer {
  const t = new Timer(nowNs() + delayMs * 1000000, task);
  heapPush(t);
  return t;
}

export function scheduleAtNs(deadline: i64, task: Task): Timer {
  const t = new Timer(deadline, task);
  heapPush(t);
  return t;
}

export function defer(task: Task): void {
  deferred.push(task);
}

export function addPoller(p: Poller): void {
  pollers.push(p);
}

export function stop(status: i32): void {
  stopped = true;
  exitStatus = status;
}

export function pendingTimers(): i32 {
  return heap.length;
}

function runDue(): void {
  const now = nowNs();
  while (heap.length > 0 && heap[0].deadline <= now) {
    const t = heapPop();
    if (t.active) {
      t.active = false;
      t.task.run();
    }
  }
}

function runDeferred(): void {
  while (deferred.length > 0) {
    const batch = deferred;
    deferred = [];
    for (let i = 0; i < batch.length; i++) batch[i].run();
  }
}

// A template built with the minimal runtime ("runtime": "minimal" in its template.json) has no
// incremental collector and no shadow stack: nothing frees garbage unless __collect is called,
// and calling it is only safe where no Wasm frame holds a reference that no global reaches. The
// start of a turn is such a point (turn() has no locals yet; run() holds none; the appliance's
// main must not keep references in locals across run()). The collector runs when the memory
// grew since the last collection, else once the time since the last one is 20 times what the
// last one took (collection costs at most ~5% of the time) and at least 1 ms.
const RUNTIME_MINIMAL = 1; // ASC_RUNTIME's value for --runtime minimal
let collectedAtNs: i64 = 0;
let collectCostNs: i64 = 0;
let pagesAtCollect: i32 = 0;

function collectBetweenTurns(): void {
  const now = nowNs();
  if (memory.size() <= pagesAtCollect && now - collectedAtNs < 10 * collectCostNs) return;
  __collect();
  const end = nowNs();
  collectCostNs = end - now;
  collectedAtNs = end;
  pagesAtCollect = memory.size();
}

/** One loop turn with an upper bound on sleeping; used by run() and by tests/fuzzers. */
export function turn(maxSleepNs: i64): void {
  if (ASC_RUNTIME == RUNTIME_MINIMAL) collectBetweenTurns();
  runDeferred();
  // Drop cancelled timers at the top so they do not cut sleeps short.
  while (heap.length > 0 && !heap[0].active) heapPop();
  let deadline = nowNs() + maxSleepNs;
  if (heap.length > 0 && heap[0].deadline < deadline) deadline = heap[0].deadline;
  const ready = sysYield(deadline);
  for (let i = 0; i < pollers.length; i++) pollers[i].poll(ready);
  runDue();
  runDeferred();
}

export function run(): i32 {
  stopped = false;
  while (!stopped) turn(3600 * 1000000000);
  return exitStatus;
}
