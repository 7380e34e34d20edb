// The real UI in Debian's Chromium against real web mode (`kiln serve`) and a real library.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../../app/testing/browser.ts';
import { startWebMode, type WebMode } from '../../../app/testing/web-mode.ts';

let web: WebMode;
let browser: Browser;

before(async () => {
  web = await startWebMode();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await web?.stop();
});

it('creates an appliance through the UI, keeps it across a reload, renames and deletes it', async () => {
  const page = await browser.newPage();
  await page.goto(web.url);
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  await page.getByText('No appliances yet.').waitFor();

  await page.getByRole('button', { name: 'New appliance' }).click();
  const form = page.getByRole('form', { name: 'New appliance' });
  await form.getByLabel('Name').fill('Bad Name');
  assert.equal(
    await form.getByRole('button', { name: 'Create' }).isDisabled(),
    true,
    'an invalid name cannot be submitted',
  );
  await form.getByLabel('Name').fill('web-demo');
  await form.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('status').filter({ hasText: 'Created web-demo.' }).waitFor();
  await page.locator('tr[data-appliance="web-demo"]').waitFor();

  // A duplicate is refused with the engine's message, shown in the form.
  await page.getByRole('button', { name: 'New appliance' }).click();
  await form.getByLabel('Name').fill('web-demo');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
  await form.getByRole('button', { name: 'Cancel' }).click();

  await page.reload();
  await page.locator('tr[data-appliance="web-demo"]').waitFor();

  await page.getByRole('button', { name: 'Rename web-demo' }).click();
  await page.getByLabel('New name').fill('web-demo-2');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('tr[data-appliance="web-demo-2"]').waitFor();

  await page.getByRole('button', { name: 'Delete web-demo-2' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('This cannot be undone.').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.locator('tr[data-appliance="web-demo-2"]').count(), 1, 'cancel keeps it');
  await page.getByRole('button', { name: 'Delete web-demo-2' }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No appliances yet.').waitFor();

  await page.reload();
  await page.getByText('No appliances yet.').waitFor();
});

it('sees changes made elsewhere (the CLI, another window) without reloading', async () => {
  const page = await browser.newPage();
  await page.goto(web.url);
  await page.getByText('No appliances yet.').waitFor();
  const res = await fetch(`${web.origin}/api/call`, {
    method: 'POST',
    headers: { authorization: `Bearer ${web.token}` },
    body: JSON.stringify({
      method: 'appliances.create',
      input: { name: 'from-elsewhere', template: 'hello' },
    }),
  });
  assert.equal(res.status, 200);
  await page.locator('tr[data-appliance="from-elsewhere"]').waitFor();
});

it('navigates with Ctrl+1..4 and shows host capabilities in Settings', async () => {
  const page = await browser.newPage();
  await page.goto(web.url);
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  await page.keyboard.press('Control+4');
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  const qemu = page.locator('tr[data-capability="qemu"]');
  await qemu.waitFor();
  assert.match(await qemu.innerText(), /QEMU \d+\.\d+/);
  await page.locator('tr[data-capability="kvm"]').waitFor();
  await page.keyboard.press('Control+2');
  await page.getByRole('heading', { name: 'Templates' }).waitFor();
  await page.getByRole('article', { name: 'Hello' }).waitFor();
  await page.keyboard.press('Control+1');
  await page.getByRole('heading', { name: 'Library' }).waitFor();
});

it('follows the OS theme: light and dark', async () => {
  const background = async (colorScheme: 'light' | 'dark') => {
    const page = await browser.newPage({ colorScheme });
    await page.goto(web.url);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await page.close();
    return bg;
  };
  assert.equal(await background('light'), 'rgb(250, 250, 249)');
  assert.equal(await background('dark'), 'rgb(28, 25, 23)');
});

it('refuses the page and the API to a browser without the token', async () => {
  const page = await browser.newPage();
  const res = await page.goto(web.origin + '/');
  assert.equal(res?.status(), 401);
  assert.match(await page.innerText('body'), /token/);
});
