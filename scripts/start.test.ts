// `npm start` without Electron's binary (as on our machines) falls back to web mode and says why.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempHome } from '../app/testing/temp-home.ts';

const home = tempHome();
after(() => home.remove());
const start = fileURLToPath(new URL('./start.mjs', import.meta.url));

it('npm start falls back to web mode, printing the reason and a working URL', async () => {
  const env = { ...process.env, KILN_HOME: home.dir, DISPLAY: '', WAYLAND_DISPLAY: '' };
  const child = spawn(process.execPath, [start], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 180 s:\n${out}`)), 180_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    assert.match(out, /Starting web mode instead of the desktop window: .*(Electron|display)/);
    const u = new URL(url);
    assert.equal((await fetch(`${u.origin}/`)).status, 401);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Kiln<\/title>/);
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
});
