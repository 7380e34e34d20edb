// The machines UI in Debian's Chromium against real web mode and real QEMU: start a VM from the
// run dialog, watch its console, type into it, see the network chart move, stop it, and find its
// log under Logs after a reload.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../../app/testing/browser.ts';
import { startWebMode, type WebMode } from '../../../app/testing/web-mode.ts';
import { repoRoot } from '../../../app/paths.ts';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { PcapReader } from '../../../app/machines/capture/pcap.ts';
import { kernelBaseTestImage, pvhTestKernel } from '../../../app/machines/testing/pvh-test-kernel.ts';

let web: WebMode;
let browser: Browser;

before(async () => {
  // The renderer must include this area's current components, not a stale bundle.
  process.env.KILN_REBUILD_RENDERER = '1';
  web = await startWebMode();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await web?.stop();
});

it('runs a VM from the UI: console, input, network chart, stop, logs after reload', async () => {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'kiln.js'), 'new', 'hello', 'demo'], {
    env: { ...process.env, KILN_HOME: web.home },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const page = await browser.newPage();
  await page.goto(web.url);
  await page.getByRole('link', { name: 'Machines' }).click();
  await page.getByText('No machines are running.').waitFor();

  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run machine' });
  await form.getByLabel('Appliance').selectOption('demo');
  await form.getByLabel('Image (optional: defaults to the latest build)').fill(pvhTestKernel());
  await form.getByLabel('Command line').fill('e');
  await form.getByLabel('Accelerator').selectOption('tcg');
  await form.getByRole('button', { name: 'Run' }).click();

  const consoleView = page.getByTestId('console');
  await consoleView.getByText('kiln: ready').waitFor({ timeout: 30_000 });
  assert.match(await consoleView.innerText(), /kiln pvh test kernel/);
  await page.getByTestId('machine-state').filter({ hasText: 'running' }).waitFor();

  // Typing goes to the guest, which echoes and publishes counters on its stats channel.
  await consoleView.click();
  await page.keyboard.type('hi');
  await consoleView.getByText('>h>i').waitFor({ timeout: 15_000 });

  await page.getByRole('tab', { name: 'Network' }).click();
  const chart = page.getByTestId('network-chart');
  await page.locator('tr[data-nic="0"] td').nth(1).filter({ hasText: /^2$/ }).waitFor({ timeout: 15_000 });
  const before = Number(await chart.getAttribute('data-points'));
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="network-chart"]')?.getAttribute('data-points')) > n,
    before,
    { timeout: 15_000 },
  );
  assert.equal((await chart.locator('canvas').count()) > 0, true, 'uPlot drew a canvas');

  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByTestId('machine-state').filter({ hasText: 'stopped' }).waitFor({ timeout: 30_000 });
  await page.getByRole('status').filter({ hasText: 'demo (run 1) stopped' }).first().waitFor();

  await page.reload();
  await page.getByRole('tab', { name: 'Logs' }).click();
  const stored = page.getByTestId('stored-console');
  await stored.getByText('kiln: ready').waitFor();
  assert.match(await stored.innerText(), />h>i/);

  await page.getByRole('button', { name: '← Machines' }).click();
  await page.locator('tr[data-run="1"][data-state="stopped"]').waitFor();
});

it(
  'captures packets live in the Network tab and downloads a pcap, then stops the guest gracefully',
  { skip: kernelBaseTestImage() ? false : 'kernel/build/kiln-test.elf not built' },
  async () => {
    const port = 42000 + (process.pid % 20000);
    const page = await browser.newPage();
    await page.goto(web.url);
    await page.getByRole('link', { name: 'Machines' }).click();
    await page.getByRole('button', { name: 'Run…' }).click();
    const form = page.getByRole('form', { name: 'Run machine' });
    await form.getByLabel('Appliance').selectOption('demo');
    await form.getByLabel('Image (optional: defaults to the latest build)').fill(kernelBaseTestImage()!);
    await form.getByLabel('Command line').fill('test=net-echo');
    await form.getByLabel('Accelerator').selectOption('tcg');
    await form.getByLabel('Port forwards').fill(`${port}:7/udp`);
    await form.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('console').getByText('kiln: ready').waitFor({ timeout: 30_000 });

    await page.getByRole('tab', { name: 'Network' }).click();
    await page.getByTestId('capture-toggle').click();
    // slirp asks the guest's MAC (ARP) for each datagram; the net-echo guest sends it back
    const udp = createSocket('udp4');
    const sender = setInterval(() => udp.send('x', port, '127.0.0.1'), 300);
    try {
      await page
        .getByTestId('packet-row')
        .filter({ hasText: 'ARP' })
        .filter({ hasText: '← in' })
        .first()
        .waitFor({ timeout: 15_000 });
      // its echo (sent with the MACs swapped, so its source is the broadcast address: shown as in)
      await page.getByTestId('packet-row').filter({ hasText: 'ARP' }).nth(1).waitFor({ timeout: 15_000 });
      await page.getByTestId('capture-toggle').click();
      assert.equal(await page.getByTestId('capture-toggle').getAttribute('aria-pressed'), 'false');

      await page.getByLabel('pcap of the next').selectOption('5');
      const download = page.waitForEvent('download', { timeout: 30_000 });
      await page.getByTestId('capture-download').click();
      const file = await (await download).path();
      const frames = new PcapReader().push(readFileSync(file));
      assert.ok(
        frames.length > 0 && frames.every((f) => f.data.readUInt16BE(12) === 0x0806),
        `${frames.length} frames`,
      );

      // web mode's streamed route: the same capture over plain HTTP, and a clear refusal
      const runId = Number(new URL(page.url()).hash.match(/\d+/)?.[0] ?? NaN);
      const base = new URL(web.url);
      const bad = await page.request.get(`${base.origin}/api/machines/capture.pcap?runId=${runId}&nic=5`);
      assert.equal(bad.status(), 400, await bad.text());
      assert.match(((await bad.json()) as { error: { message: string } }).error.message, /has 1 NIC/);
      const http = await page.request.get(`${base.origin}/api/machines/capture.pcap?runId=${runId}&count=2`, {
        timeout: 30_000,
      });
      assert.equal(http.headers()['content-type'], 'application/vnd.tcpdump.pcap');
      assert.equal(new PcapReader().push(await http.body()).length, 2);
    } finally {
      clearInterval(sender);
      udp.close();
    }
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('machine-state').filter({ hasText: 'stopped' }).waitFor({ timeout: 30_000 });
    await page.getByRole('tab', { name: 'Console' }).click();
    await page.getByTestId('console').getByText('kiln: shutdown requested').waitFor();
  },
);
