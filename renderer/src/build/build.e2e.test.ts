// The signature flow in Debian's Chromium against real web mode: template gallery -> "New
// appliance" form generated from the schema (validation, defaults) -> Build (Ctrl+B) with live
// stages and log, still visible from another page -> image breakdown -> Run (Ctrl+R) -> the
// console shows the appliance's output and its ready line.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../../app/testing/browser.ts';
import { startWebMode, type WebMode } from '../../../app/testing/web-mode.ts';
import { ensureKernelBuilt } from '../../../kernel/base/test/qemu-run.ts';
import type { Page } from 'playwright-core';

let web: WebMode;
let browser: Browser;
let page: Page;

before(async () => {
  ensureKernelBuilt();
  process.env.KILN_REBUILD_RENDERER = '1'; // this test is about the current UI sources
  web = await startWebMode();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await web?.stop();
});

it('gallery -> new appliance form -> build (Ctrl+B) with stages, log, breakdown, history', async () => {
  page = await browser.newPage();
  await page.goto(web.url);
  await page.getByRole('link', { name: 'Templates' }).click();
  const card = page.getByRole('article', { name: 'Hello' });
  await card.getByText('Console only (no network stack)').waitFor();
  await card.getByRole('button', { name: 'New Hello appliance' }).click();

  const form = page.getByRole('form', { name: 'New Hello appliance' });
  // Defaults come from the schema.
  assert.equal(await form.getByLabel('Greeting *').inputValue(), 'Hello from Kiln');
  assert.equal(await form.getByLabel('Times to print it').inputValue(), '1');
  await form.getByLabel('Name').fill('e2e-hello');
  await form.getByLabel('Times to print it').fill('0');
  await form.getByRole('alert').filter({ hasText: 'at least 1' }).waitFor();
  assert.equal(await form.getByRole('button', { name: 'Create' }).isDisabled(), true);
  await form.getByLabel('Times to print it').fill('2');
  await form.getByLabel('Greeting *').fill('Hello from the e2e test');
  await form.getByRole('button', { name: 'Create' }).click();

  await page.getByRole('heading', { name: 'e2e-hello' }).waitFor();
  await page.getByText('No builds yet.').waitFor();
  assert.equal(
    await page.getByRole('button', { name: 'Run' }).isDisabled(),
    true,
    'nothing to run before a build',
  );

  // Ctrl+B builds: the task indicator appears at once, then the stages and the log arrive live.
  // (Ctrl+B is ignored until the appliance has loaded, which the Build button shows.)
  await page.getByRole('button', { name: 'Build', exact: true }).waitFor();
  await page.keyboard.press('Control+b');
  await page.getByRole('status', { name: 'Building e2e-hello' }).waitFor({ timeout: 30_000 });
  const log = page.getByRole('region', { name: 'Build log' });
  // The build keeps going, and stays visible, on another page.
  await page.getByRole('link', { name: 'Templates' }).click();
  await page.getByRole('heading', { name: 'Templates' }).waitFor();
  await page.getByRole('status', { name: 'Building e2e-hello' }).waitFor();
  await page
    .getByRole('status')
    .filter({ hasText: /Built e2e-hello: [\d.]+ KiB/ })
    .waitFor({ timeout: 900_000 });
  await page.getByRole('status').filter({ hasText: 'Built e2e-hello' }).getByRole('button').first().click();

  await page.getByRole('heading', { name: 'e2e-hello' }).waitFor();
  for (const s of ['resolve', 'generate', 'compile-as', 'compile-native', 'link', 'record']) {
    await log.locator(`li[data-stage="${s}"][data-state="done"]`).waitFor();
  }
  await log
    .getByLabel('Build output')
    .getByText(/sha256 [0-9a-f]{64}/)
    .waitFor();
  const breakdown = page.getByRole('region', { name: 'Image breakdown' });
  await breakdown.locator('code.module', { hasText: 'kiln/console' }).waitFor();
  assert.equal(
    await breakdown.locator('code.module', { hasText: 'kiln/net' }).count(),
    0,
    'no network stack in hello',
  );
  await page
    .locator('table[aria-label="Build history"] tr[data-build]')
    .first()
    .getByText('succeeded')
    .waitFor();
});

it('Run (Ctrl+R) starts the latest image and the console shows its output and ready line', async () => {
  await page.keyboard.press('Control+r');
  const consoleView = page.getByTestId('console');
  await consoleView.getByText('kiln: ready').waitFor({ timeout: 120_000 });
  const text = await consoleView.innerText();
  assert.equal(text.split('\n').filter((l) => l.trim() === 'Hello from the e2e test').length, 2, text);
});
