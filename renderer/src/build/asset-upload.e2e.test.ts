// Web mode's asset picker for real: upload a folder from the "New appliance" form of the static
// web server (Chromium's folder input -> POST /api/assets -> the library), build it, run the image
// under QEMU with a port forward, and fetch the uploaded page from the appliance.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { tempDir } from '../../../app/build/testing.ts';
import { launchBrowser } from '../../../app/testing/browser.ts';
import { startWebMode, type WebMode } from '../../../app/testing/web-mode.ts';
import { ensureKernelBuilt } from '../../../kernel/base/test/qemu-run.ts';

let web: WebMode;
let browser: Browser;
const site = tempDir('upload-site');
const PAGE = '<!doctype html><h1>uploaded by the e2e test</h1>\n';

before(async () => {
  ensureKernelBuilt();
  process.env.KILN_REBUILD_RENDERER = '1';
  mkdirSync(join(site.dir, 'my-site', 'css'), { recursive: true });
  writeFileSync(join(site.dir, 'my-site', 'index.html'), PAGE);
  writeFileSync(join(site.dir, 'my-site', 'css', 'site.css'), 'h1 { color: teal }\n');
  web = await startWebMode();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await web?.stop();
  site.remove();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function call<T>(method: string, input: unknown): Promise<T> {
  const r = await fetch(`${web.origin}/api/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${web.token}` },
    body: JSON.stringify({ method, input }),
  });
  const body = (await r.json()) as { result?: T; error?: { message: string } };
  if (!body.result) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
  return body.result;
}

it('uploads a folder for http-static, builds it, and the appliance serves the uploaded file', async () => {
  const page = await browser.newPage();
  await page.goto(web.url);
  await page.getByRole('link', { name: 'Templates' }).click();
  await page
    .getByRole('article', { name: 'Static web server' })
    .getByRole('button', { name: 'New Static web server appliance' })
    .click();
  const form = page.getByRole('form', { name: 'New Static web server appliance' });
  await form.getByLabel('Name', { exact: true }).fill('e2e-site');
  await form.getByLabel('Upload Folder to serve').setInputFiles(join(site.dir, 'my-site'));
  await form.getByRole('status').filter({ hasText: 'Uploaded 2 files' }).waitFor();
  const stored = await form.getByLabel('Folder to serve *').inputValue();
  assert.match(stored, /[/\\]assets[/\\]folder[/\\][0-9a-f]{64}$/);
  assert.ok(stored.startsWith(web.home), stored);
  await form.getByRole('button', { name: 'Create' }).click();

  await page.getByRole('heading', { name: 'e2e-site' }).waitFor();
  // The heading shows before the appliance has loaded; Ctrl+B is ignored until the Build button is there.
  await page.getByRole('button', { name: 'Build', exact: true }).waitFor();
  await page.keyboard.press('Control+b');
  await page
    .getByRole('status')
    .filter({ hasText: /Built e2e-site: [\d.]+ KiB/ })
    .waitFor({ timeout: 900_000 });
  const log = page.getByRole('region', { name: 'Build log' }).getByLabel('Build output');
  await log.getByText(`asset site: folder ${stored} (2 files`).waitFor();

  const port = await freePort();
  const run = await call<{ runId: number }>('machines.run', {
    appliance: 'e2e-site',
    nics: [{ mode: 'user', forwards: [`${port}:80`] }],
  });
  try {
    let body = '';
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(5000) });
        body = await r.text();
        if (r.ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('the appliance did not answer in 180 s');
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(body, PAGE);
    const css = await fetch(`http://127.0.0.1:${port}/css/site.css`);
    assert.equal(await css.text(), 'h1 { color: teal }\n');
  } finally {
    await call('machines.kill', { runId: run.runId });
  }
});
