// `npm run bench:boot`: image size of the base, and QEMU launch -> first console byte / -> exit
// (medians of N runs) on microvm, KVM (when usable) and TCG, for the floor kernel (a few
// instructions: one byte out, exit) and the Kiln base with the test appliance, measured in the
// same run; prints the ratio base/floor and the difference.
// Command line: the fastest correct one (qboot firmware, no default devices), see qemu-run.ts.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BASE_IMAGE,
  FLOOR_IMAGE,
  TEST_IMAGE,
  ensureKernelBuilt,
  kvmUsable,
  qemuArgs,
  type Accel,
} from '../test/qemu-run.ts';

const RUNS = Number(process.env.KILN_BENCH_RUNS ?? 20);

interface Sample {
  firstByteMs: number;
  exitMs: number;
  /** QEMU's user + system CPU time (from /usr/bin/time), less sensitive to host load; NaN without it */
  cpuMs: number;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const timeFile = join(tmpdir(), `kiln-boot-bench-${process.pid}.time`);

function once(image: string, accel: Accel, append?: string): Promise<Sample> {
  const args = qemuArgs({ image, accel, machine: 'microvm', ...(append ? { append } : {}) });
  const [cmd, argv] = TIME
    ? [TIME, ['-q', '-f', '%U %S', '-o', timeFile, 'qemu-system-x86_64', ...args]]
    : ['qemu-system-x86_64', args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = -1;
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', () => {
      if (first < 0) first = performance.now() - t0;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const exitMs = performance.now() - t0;
      if (code === null || code % 2 !== 1 || code >> 1 !== 0)
        reject(new Error(`${image}: QEMU exited with ${code}`));
      else {
        const cpu = TIME ? readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number) : [NaN, NaN];
        resolve({ firstByteMs: first, exitMs, cpuMs: (cpu[0]! + cpu[1]!) * 1000 });
      }
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Figures {
  first: number;
  exit: number;
  cpu: number;
}

/** Alternates floor and base runs so that machine load weighs on both alike. */
async function measurePair(accel: Accel): Promise<{ floor: Figures; base: Figures }> {
  await once(FLOOR_IMAGE, accel); // warm the page cache
  await once(TEST_IMAGE, accel, 'test=hello');
  const f: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    f.push(await once(FLOOR_IMAGE, accel));
    b.push(await once(TEST_IMAGE, accel, 'test=hello'));
  }
  const fig = (xs: Sample[]): Figures => ({
    first: median(xs.map((s) => s.firstByteMs)),
    exit: median(xs.map((s) => s.exitMs)),
    cpu: median(xs.map((s) => s.cpuMs)),
  });
  return { floor: fig(f), base: fig(b) };
}

async function main(): Promise<void> {
  ensureKernelBuilt();
  const size = statSync(BASE_IMAGE).size;
  console.log(
    `kiln-base.elf: ${size} bytes (${(size / 1024).toFixed(1)} KiB; goal < 64 KiB) ${size < 65536 ? 'OK' : 'OVER'}`,
  );
  console.log(
    `kiln-test.elf: ${statSync(TEST_IMAGE).size} bytes; kiln-floor.elf: ${statSync(FLOOR_IMAGE).size} bytes`,
  );
  const accels: Accel[] = kvmUsable() ? ['kvm', 'tcg'] : ['tcg'];
  if (!kvmUsable()) console.log('KVM: /dev/kvm not usable on this host, TCG only');
  console.log(
    `load average: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (figures are wall-clock; a loaded host inflates both kernels)`,
  );
  console.log(`median of ${RUNS} runs, QEMU microvm + qboot, launch -> first console byte / -> exit`);
  for (const accel of accels) {
    const { floor, base } = await measurePair(accel);
    const fmt = (x: number): string => `${x.toFixed(1)} ms`;
    console.log(
      `${accel}: floor  first byte ${fmt(floor.first)}  exit ${fmt(floor.exit)}  QEMU CPU ${fmt(floor.cpu)}`,
    );
    console.log(
      `${accel}: base   first byte ${fmt(base.first)}  exit ${fmt(base.exit)}  QEMU CPU ${fmt(base.cpu)}`,
    );
    console.log(
      `${accel}: base/floor  first byte x${(base.first / floor.first).toFixed(3)} (+${fmt(base.first - floor.first)})  exit x${(base.exit / floor.exit).toFixed(3)} (+${fmt(base.exit - floor.exit)})  goal +1 ms: ${base.exit - floor.exit < 1 ? 'met' : 'not met'}`,
    );
    if (TIME)
      console.log(
        `${accel}: base/floor  QEMU CPU x${(base.cpu / floor.cpu).toFixed(3)} (+${fmt(base.cpu - floor.cpu)})`,
      );
  }
}

main()
  .finally(() => rmSync(timeFile, { force: true }))
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
