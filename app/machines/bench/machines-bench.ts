// npm run bench:machines — figures for the machines area, each against a baseline measured in
// the same run:
//   1. launch → first console byte: through the engine vs plain QEMU started by hand (goal <10%)
//   2. console throughput from a chatty guest through the API stream (lines/s, nothing dropped)
//      vs plain QEMU to stdio, and the UI's frame time while xterm.js renders that flood
//      (Chromium, web mode; KILN_BENCH_UI=0 skips it)
//   3. engine CPU while monitoring 10 idle VMs vs the same engine idle with none
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dispatcher } from '../../api/dispatcher.ts';
import { Engine } from '../../engine.ts';
import { repoRoot } from '../../paths.ts';
import { CHROMIUM, launchBrowser } from '../../testing/browser.ts';
import { startWebMode } from '../../testing/web-mode.ts';
import { detectQemu } from '../qemu/capabilities.ts';
import { pvhTestKernel } from '../testing/pvh-test-kernel.ts';

const runs = Number(process.env.KILN_BENCH_RUNS ?? 10);
const image = pvhTestKernel();
const caps = await detectQemu();
const accel = caps.bestAccelerator === 'kvm' ? 'kvm' : 'tcg';
const home = mkdtempSync(join(tmpdir(), 'kiln-mbench-'));
const engine = Engine.open({ home });
engine.store.appliances.create({ name: 'bench', template: null, config: {} });
const svc = engine.machines;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Plain QEMU by hand: the shortest line that boots the same kernel with its console on stdio. */
function plainFirstByte(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const args = [
      '-M',
      'microvm',
      '-accel',
      accel,
      '-m',
      '32',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-no-reboot',
    ];
    if (caps.qbootPath) args.push('-bios', caps.qbootPath);
    args.push(
      '-serial',
      'stdio',
      '-device',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-kernel',
      image,
      '-append',
      'x0',
    );
    const p = spawn(caps.binary!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let t: number | null = null;
    p.stdout.once('data', () => (t = performance.now() - t0));
    p.on('exit', () => (t === null ? reject(new Error('no output')) : resolve(t)));
  });
}

async function engineFirstByte(): Promise<number> {
  const t0 = performance.now();
  let first: number | null = null;
  let id = -1;
  const on = (runId: number) => {
    if (first === null && (id === -1 || runId === id)) first = performance.now() - t0;
  };
  svc.feed.on('console', on);
  const run = await svc.run({
    appliance: 'bench',
    image,
    cmdline: 'x0',
    accelerator: accel,
    memoryMiB: 32,
    nics: [],
  });
  id = run.id;
  await svc.waitForExit(run.id);
  svc.feed.off('console', on);
  if (first === null) throw new Error('no console byte');
  return first;
}

console.log(`machines bench: QEMU ${caps.version?.text}, accelerator ${accel}, ${runs} runs each\n`);

// 1. Launch to first byte, interleaved so machine load affects both alike.
const plain: number[] = [];
const viaEngine: number[] = [];
await plainFirstByte();
await engineFirstByte(); // warm-up (first QEMU start reads its binary from disk)
for (let i = 0; i < runs; i++) {
  plain.push(await plainFirstByte());
  viaEngine.push(await engineFirstByte());
}
const mp = median(plain);
const me = median(viaEngine);
console.log('1. launch → first console byte (median)');
console.log(`   plain QEMU by hand : ${mp.toFixed(1)} ms`);
console.log(`   through the engine : ${me.toFixed(1)} ms`);
console.log(`   overhead           : ${(((me - mp) / mp) * 100).toFixed(1)}% (goal < 10%)\n`);

// 2. Console throughput through the API stream (the path the UI uses, batched per flush),
//    against the same guest printing to plain QEMU's stdio.
const lines = Number(process.env.KILN_BENCH_LINES ?? 100_000);
function plainChatter(): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const args = [
      '-M',
      'microvm',
      '-accel',
      accel,
      '-m',
      '32',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-no-reboot',
    ];
    if (caps.qbootPath) args.push('-bios', caps.qbootPath);
    args.push(
      '-serial',
      'stdio',
      '-device',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-kernel',
      image,
      '-append',
      `c${lines}`,
    );
    const p = spawn(caps.binary!, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let n = 0;
    p.stdout.on('data', (d: Buffer) => {
      for (const b of d) if (b === 10) n++;
    });
    p.on('exit', () => resolve(n / ((performance.now() - t0) / 1000)));
  });
}
{
  const baseline = await plainChatter();
  const dispatcher = new Dispatcher(engine);
  let received = '';
  let batches = 0;
  const run = await svc.run({
    appliance: 'bench',
    image,
    cmdline: `c${lines}`,
    accelerator: accel,
    memoryMiB: 32,
    nics: [],
  });
  const t0 = performance.now();
  const cancel = dispatcher.subscribe(
    'machines.consoleStream',
    { runId: run.id },
    {
      events: (batch) => {
        batches++;
        for (const e of batch as { text: string }[]) received += e.text;
      },
      end: () => undefined,
    },
  );
  await svc.waitForExit(run.id);
  await sleep(100); // the last flush
  const seconds = (performance.now() - t0) / 1000;
  cancel();
  const got = received.split('\n').filter((l) => l.startsWith('chatter line ')).length;
  const stored = svc.repo
    .consoleText(run.id)
    .split('\n')
    .filter((l) => l.startsWith('chatter line ')).length;
  console.log('2. console throughput, chatty guest → API stream');
  console.log(`   plain QEMU to stdio : ${Math.round(baseline)} lines/s`);
  console.log(
    `   through the engine  : ${Math.round(got / seconds)} lines/s (${lines} lines in ${seconds.toFixed(2)} s, ${batches} batches), ratio ${(got / seconds / baseline).toFixed(2)}`,
  );
  console.log(
    `   received ${got}/${lines} live, ${stored}/${lines} stored: ${got === lines && stored === lines ? 'nothing dropped' : 'LINES MISSING'}\n`,
  );
}

// 2b. The UI rendering that stream: web mode + Chromium, frame times while the console floods.
if (existsSync(CHROMIUM) && process.env.KILN_BENCH_UI !== '0') {
  const web = await startWebMode();
  const browser = await launchBrowser();
  try {
    spawnSync(process.execPath, [join(repoRoot(), 'bin', 'kiln.js'), 'new', 'hello', 'ui'], {
      env: { ...process.env, KILN_HOME: web.home },
    });
    const page = await browser.newPage();
    await page.goto(web.url);
    await page.getByRole('link', { name: 'Machines' }).click();
    await page.getByRole('button', { name: 'Run…' }).click();
    const form = page.getByRole('form', { name: 'Run machine' });
    await form.getByLabel('Appliance').selectOption('ui');
    await form.getByLabel('Image (optional: defaults to the latest build)').fill(image);
    await form.getByLabel('Command line').fill(`c${lines}`);
    await form.getByLabel('Accelerator').selectOption(accel);
    // A string, not a function: the bundler's helpers do not exist in the page.
    await page.evaluate(`(() => {
      window.frames_ = [];
      let last = performance.now();
      const tick = (t) => { window.frames_.push(t - last); last = t; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const t0 = performance.now();
    await form.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('console').getByText('chatter done').waitFor({ timeout: 600_000 });
    const seconds = (performance.now() - t0) / 1000;
    const frames = ((await page.evaluate('window.frames_')) as number[]).slice(5).sort((a, b) => a - b);
    const pct = (p: number) => frames[Math.min(frames.length - 1, Math.floor(frames.length * p))] ?? 0;
    console.log('2b. the UI (Chromium, web mode) rendering the same flood in xterm.js');
    console.log(
      `   ${lines} lines on screen after ${seconds.toFixed(2)} s (${Math.round(lines / seconds)} lines/s including launch)`,
    );
    console.log(
      `   frame time p50 ${pct(0.5).toFixed(1)} ms, p95 ${pct(0.95).toFixed(1)} ms, max ${pct(1).toFixed(1)} ms over ${frames.length} frames\n`,
    );
  } finally {
    await browser.close();
    await web.stop();
  }
}

// 3. Engine CPU while monitoring 10 idle VMs (halted guests), vs the engine idle.
async function engineCpu(ms: number): Promise<number> {
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const u = process.cpuUsage(u0);
  return ((u.user + u.system) / 1000 / (performance.now() - t0)) * 100;
}
{
  const window = Number(process.env.KILN_BENCH_IDLE_MS ?? 10_000);
  const idle = await engineCpu(window);
  const ids: number[] = [];
  for (let i = 0; i < 10; i++)
    ids.push(
      (
        await svc.run({
          appliance: 'bench',
          image,
          cmdline: 'h',
          accelerator: accel,
          memoryMiB: 32,
          nics: [],
        })
      ).id,
    );
  await sleep(2000);
  const busy = await engineCpu(window);
  const samples = ids.reduce((n, id) => n + svc.repo.hostSamples(id).length, 0);
  for (const id of ids) await svc.kill(id);
  console.log('3. engine CPU (one core = 100%)');
  console.log(`   idle engine, no VMs        : ${idle.toFixed(2)}%`);
  console.log(`   monitoring 10 idle VMs     : ${busy.toFixed(2)}% (${samples} samples stored)`);
  console.log(`   cost of monitoring 10 VMs  : ${(busy - idle).toFixed(2)} percentage points\n`);
}

await engine.close();
rmSync(home, { recursive: true, force: true });
