import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempHome } from '../testing/temp-home.ts';
import { Store } from './index.ts';

const fixture = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));

function killMidWrite(home: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, KILN_HOME: home },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited by itself: ${code}`)),
    );
  });
}

const home = tempHome();
after(() => home.remove());

it('SIGKILL at any moment of a write leaves a consistent library', async () => {
  // Several kills at different moments, each against the same growing database.
  for (const delay of [5, 40, 120, 15, 250]) {
    await killMidWrite(home.dir, delay);
    const store = Store.open(home.dir);
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(store.db.pragma('foreign_key_check'), []);
    const counts = store.db
      .prepare(
        'SELECT a.name, count(b.id) AS n FROM appliances a LEFT JOIN builds b ON b.appliance_id = a.id GROUP BY a.id',
      )
      .all() as { name: string; n: number }[];
    assert.ok(counts.length > 0, 'the writer committed something before it was killed');
    for (const c of counts) assert.equal(c.n, 3, `${c.name} has ${c.n} builds: a transaction was torn`);
    // Builds left "running" by the dead writer were marked interrupted when the store opened.
    const running = store.db.prepare("SELECT count(*) AS c FROM builds WHERE status = 'running'").get() as {
      c: number;
    };
    assert.equal(running.c, 0);
    store.close();
  }
});
