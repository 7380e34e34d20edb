// Test fixture: a Kiln image booted under QEMU on a TAP device inside a network namespace, with
// Linux's own stack as the peer on `10.77.0.1`. Optionally the link runs through a relay that
// emulates `tc qdisc netem` (this machine's kernel has no sch_netem):
//
//   QEMU ─ vm0 ═ br0 ═ rel0 ─ kiln-tap A ─ relay (loss/delay/reorder) ─ kiln-tap B ─ tap0 (10.77.0.1)
//
// vm0 and rel0 are bridged, so every frame the guest sends reaches kiln-tap A; tap0 carries the
// host's address, so Linux only ever sees what the relay lets through, in both directions.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { bootImage, type BootResult } from '../../base/test/qemu-run.ts';
import { createTapNetns, type TapNetns } from './netns.ts';
import { ensureTapHelper, readTapFrames, tapRecord } from './tap-helper.ts';

export interface Impairment {
  /** probability that a frame is dropped */
  loss: number;
  /** every frame not dropped or reordered is held this long */
  delayMs: number;
  /** probability that a frame skips the delay (and so overtakes the ones held) */
  reorder: number;
}

export interface Relay {
  /** Frames dropped by the impairment so far (both directions). */
  dropped: number;
  /** null: frames pass untouched. */
  impair: Impairment | null;
  close(): void;
}

export interface VmHandle {
  n: TapNetns;
  relay: Relay | null;
  output(): string;
  waitForOutput(match: string | RegExp, timeoutMs: number): Promise<void>;
  /** Kills QEMU and resolves with what it printed. */
  stop(): Promise<BootResult>;
  /** Resolves when QEMU exits by itself (or is stopped). */
  exited: Promise<BootResult>;
}

export interface VmOptions {
  image: string;
  disks?: string[];
  memoryMiB?: number;
  /** put the impairment relay between the guest and Linux */
  relay?: boolean;
}

function writeFrame(child: ChildProcess, frame: Buffer): void {
  if (child.stdin?.writable) child.stdin.write(tapRecord(frame));
}

async function startRelay(n: TapNetns): Promise<Relay> {
  const ip = (...a: string[]): void => {
    execFileSync('ip', ['-n', n.ns, ...a], { stdio: 'pipe' });
  };
  ip('link', 'add', 'br0', 'type', 'bridge');
  for (const t of ['vm0', 'rel0']) {
    ip('tuntap', 'add', 'dev', t, 'mode', 'tap');
    ip('link', 'set', t, 'master', 'br0');
    ip('link', 'set', t, 'up');
  }
  ip('link', 'set', 'br0', 'up');
  const helper = await ensureTapHelper();
  const open = (tap: string): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', n.ns, helper, tap], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.stdin!.on('error', () => {});
    c.stderr!.on('data', () => {});
    return c;
  };
  const guestSide = open('rel0');
  const hostSide = open(n.tap);
  const relay: Relay = {
    dropped: 0,
    impair: null,
    close: () => {
      guestSide.kill('SIGTERM');
      hostSide.kill('SIGTERM');
    },
  };
  const pass = (to: ChildProcess) => (frame: Buffer) => {
    const imp = relay.impair;
    if (!imp) return writeFrame(to, frame);
    if (Math.random() < imp.loss) {
      relay.dropped++;
      return;
    }
    if (imp.delayMs <= 0 || Math.random() < imp.reorder) return writeFrame(to, frame);
    setTimeout(() => writeFrame(to, frame), imp.delayMs);
  };
  // The relay may hold a frame (delay): copy it out of the read buffer.
  const toHost = pass(hostSide);
  const toGuest = pass(guestSide);
  readTapFrames(guestSide.stdout!, (f) => toHost(Buffer.from(f)));
  readTapFrames(hostSide.stdout!, (f) => toGuest(Buffer.from(f)));
  return relay;
}

/** Boots `image` in a fresh namespace; the guest's NIC is `vm0` (relay) or `tap0` itself. */
export async function startVm(tag: string, opts: VmOptions): Promise<VmHandle> {
  const n = createTapNetns(tag);
  let relay: Relay | null = null;
  try {
    if (opts.relay) relay = await startRelay(n);
  } catch (e) {
    n.cleanup();
    throw e;
  }
  const ifname = opts.relay ? 'vm0' : n.tap;
  let text = '';
  let pid = 0;
  const watchers = new Set<() => void>();
  const exited = bootImage({
    image: opts.image,
    memoryMiB: opts.memoryMiB ?? 64,
    disks: opts.disks,
    netdevs: [{ backend: `tap,ifname=${ifname},script=no,downscript=no` }],
    wrapper: ['ip', 'netns', 'exec', n.ns],
    timeoutMs: 1_800_000,
    onSpawn: (p) => (pid = p),
    onOutput: (c) => {
      text += c;
      for (const w of watchers) w();
    },
  }).finally(() => {
    for (const w of watchers) w();
  });
  let done = false;
  void exited.then(() => (done = true));
  const handle: VmHandle = {
    n,
    relay,
    output: () => text,
    exited,
    waitForOutput(match, timeoutMs) {
      const seen = (): boolean => (typeof match === 'string' ? text.includes(match) : match.test(text));
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (seen()) finish(null);
          else if (done) finish(new Error(`QEMU exited before ${String(match)}:\n${text}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`timed out waiting for ${String(match)}:\n${text}`)),
          timeoutMs,
        );
        const finish = (e: Error | null): void => {
          clearTimeout(timer);
          watchers.delete(check);
          if (e) reject(e);
          else resolve();
        };
        watchers.add(check);
        check();
      });
    },
    async stop() {
      if (pid && !done) process.kill(pid, 'SIGKILL');
      const r = await exited;
      return r;
    },
  };
  return handle;
}

/** Stops the VM and removes its namespace (with the relay and the taps in it). */
export async function destroyVm(vm: VmHandle | undefined): Promise<void> {
  if (!vm) return;
  await vm.stop();
  vm.relay?.close();
  vm.n.cleanup();
}
