import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { KilnError } from '../errors.ts';
import { tempHome } from '../testing/temp-home.ts';
import { openDatabase, schemaVersion } from './db.ts';
import { Store } from './index.ts';
import { migrations } from './migrations/index.ts';
import { recoverOrphans } from './recovery.ts';

const home = tempHome();
after(() => home.remove());
let n = 0;
const dbFile = () => join(home.dir, `t${n++}.db`);

describe('migrations', () => {
  it('brings a fresh database to the newest schema, in WAL mode with foreign keys on', () => {
    const db = openDatabase(dbFile());
    assert.equal(schemaVersion(db), migrations.at(-1)!.version);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table')").all() as { name: string }[]
    ).map((r) => r.name);
    for (const t of ['appliances', 'builds', 'runs', 'console_chunks', 'console_fts', 'net_samples'])
      assert.ok(tables.includes(t), t);
    db.close();
  });

  it('migrates every older schema to the newest, keeping the data', () => {
    for (let v = 1; v < migrations.length; v++) {
      const file = dbFile();
      const old = openDatabase(file, migrations.slice(0, v));
      assert.equal(schemaVersion(old), v);
      old
        .prepare(
          "INSERT INTO appliances (name, template, config, created_at, updated_at) VALUES ('kept', 'hello', '{\"a\":1}', 1, 1)",
        )
        .run();
      old.close();
      const store = new Store(openDatabase(file));
      assert.equal(schemaVersion(store.db), migrations.at(-1)!.version);
      assert.deepEqual(store.appliances.get('kept').config, { a: 1 });
      store.close();
    }
  });

  it('refuses a database written by a newer Kiln, and leaves it untouched', () => {
    const file = dbFile();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.exec('CREATE TABLE future (x)');
    raw.close();
    assert.throws(
      () => openDatabase(file),
      (err: unknown) =>
        err instanceof KilnError &&
        /newer Kiln \(schema version 99; this Kiln knows up to \d+\)/.test(err.message),
    );
    const again = new Database(file);
    assert.equal(again.pragma('user_version', { simple: true }), 99);
    again.close();
  });

  it('rolls a failing migration back completely', () => {
    const file = dbFile();
    const broken = [
      ...migrations,
      {
        version: migrations.length + 1,
        name: 'broken',
        up: (db: Database.Database) => db.exec('CREATE TABLE half (x); SELECT nope FROM nowhere;'),
      },
    ];
    assert.throws(() => openDatabase(file, broken), /no such table: nowhere/);
    const db = openDatabase(file);
    assert.equal(schemaVersion(db), migrations.length);
    assert.equal(
      (db.prepare("SELECT count(*) AS c FROM sqlite_master WHERE name = 'half'").get() as { c: number }).c,
      0,
    );
    db.close();
  });
});

describe('appliances', () => {
  const store = new Store(openDatabase(dbFile()));
  after(() => store.close());

  it('validates names and names the field', () => {
    for (const bad of ['', 'Upper', '-dash', 'a_b', 'x'.repeat(64), 'sp ace']) {
      assert.throws(
        () => store.appliances.create({ name: bad, template: 'hello', config: {} }),
        (e: unknown) => e instanceof KilnError && e.code === 'invalid_input' && e.field === 'name',
        bad,
      );
    }
    assert.equal(
      store.appliances.create({ name: 'a'.repeat(63), template: 'hello', config: {} }).name.length,
      63,
    );
  });

  it('refuses duplicates with a conflict on the name', () => {
    store.appliances.create({ name: 'dup', template: 'hello', config: {} });
    assert.throws(
      () => store.appliances.create({ name: 'dup', template: 'hello', config: {} }),
      (e: unknown) => e instanceof KilnError && e.code === 'conflict' && e.field === 'name',
    );
    store.appliances.create({ name: 'other', template: 'hello', config: {} });
    assert.throws(
      () => store.appliances.rename('other', 'dup'),
      (e: unknown) => e instanceof KilnError && e.code === 'conflict',
    );
    assert.equal(store.appliances.get('other').name, 'other');
  });

  it('renames, and deleting cascades to builds, runs, console and samples', () => {
    const a = store.appliances.create({ name: 'cascade', template: 'hello', config: {} });
    const b = store.builds.create(a.id, 'bundled');
    const run = store.db
      .prepare(
        "INSERT INTO runs (appliance_id, build_id, hypervisor, state) VALUES (?, ?, 'qemu', 'stopped')",
      )
      .run(a.id, b.id);
    store.db
      .prepare("INSERT INTO console_chunks (run_id, at, data) VALUES (?, 1, 'boot ok')")
      .run(run.lastInsertRowid);
    store.db
      .prepare(
        'INSERT INTO net_samples (run_id, nic, at, rx_bytes, tx_bytes, rx_packets, tx_packets, rx_drops, tx_drops) VALUES (?, 0, 1, 1, 1, 1, 1, 0, 0)',
      )
      .run(run.lastInsertRowid);
    store.appliances.rename('cascade', 'cascade2');
    assert.equal(store.appliances.find('cascade'), undefined);
    store.appliances.remove('cascade2');
    for (const t of ['builds', 'runs', 'console_chunks', 'net_samples']) {
      assert.equal((store.db.prepare(`SELECT count(*) AS c FROM ${t}`).get() as { c: number }).c, 0, t);
    }
    assert.equal(
      (
        store.db.prepare("SELECT count(*) AS c FROM console_fts WHERE console_fts MATCH 'boot'").get() as {
          c: number;
        }
      ).c,
      0,
    );
  });

  it('makes console output searchable with FTS5', () => {
    const a = store.appliances.create({ name: 'fts', template: 'hello', config: {} });
    const run = store.db
      .prepare("INSERT INTO runs (appliance_id, hypervisor, state) VALUES (?, 'qemu', 'running')")
      .run(a.id);
    const ins = store.db.prepare('INSERT INTO console_chunks (run_id, at, data) VALUES (?, ?, ?)');
    ins.run(run.lastInsertRowid, 1, 'kiln: booting\n');
    ins.run(run.lastInsertRowid, 2, 'kiln: ready on 10.0.2.15\n');
    const hits = store.db.prepare("SELECT data FROM console_fts WHERE console_fts MATCH 'ready'").all() as {
      data: string;
    }[];
    assert.deepEqual(
      hits.map((h) => h.data),
      ['kiln: ready on 10.0.2.15\n'],
    );
  });

  it('refuses invalid JSON and unknown states at the database level', () => {
    assert.throws(
      () =>
        store.db
          .prepare(
            "INSERT INTO appliances (name, config, created_at, updated_at) VALUES ('j', '{nope', 1, 1)",
          )
          .run(),
      /CHECK constraint/,
    );
    const a = store.appliances.get('other');
    assert.throws(
      () =>
        store.db
          .prepare("INSERT INTO runs (appliance_id, hypervisor, state) VALUES (?, 'qemu', 'flying')")
          .run(a.id),
      /CHECK constraint/,
    );
    assert.throws(
      () => store.db.prepare("INSERT INTO builds (appliance_id, status) VALUES (999999, 'running')").run(),
      /FOREIGN KEY/,
    );
  });
});

describe('crash recovery', () => {
  it('marks builds and runs of a dead engine interrupted, leaves live VMs for re-attach', () => {
    const store = new Store(openDatabase(dbFile()));
    const a = store.appliances.create({ name: 'rec', template: 'hello', config: {} });
    const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
    store.db
      .prepare("INSERT INTO builds (appliance_id, status, owner_pid) VALUES (?, 'running', ?)")
      .run(a.id, dead);
    store.db
      .prepare("INSERT INTO builds (appliance_id, status, owner_pid) VALUES (?, 'succeeded', ?)")
      .run(a.id, dead);
    store.db
      .prepare(
        "INSERT INTO runs (appliance_id, hypervisor, state, pid, owner_pid) VALUES (?, 'qemu', 'running', ?, ?)",
      )
      .run(a.id, dead + 1, dead);
    store.db
      .prepare(
        "INSERT INTO runs (appliance_id, hypervisor, state, pid, owner_pid) VALUES (?, 'qemu', 'running', ?, ?)",
      )
      .run(a.id, process.ppid, dead);
    const report = recoverOrphans(store.db);
    assert.deepEqual(report, { buildsInterrupted: 1, runsInterrupted: 1 });
    const states = (store.db.prepare('SELECT state FROM runs ORDER BY id').all() as { state: string }[]).map(
      (r) => r.state,
    );
    assert.deepEqual(states, ['interrupted', 'running']);
    const builds = store.db.prepare('SELECT status, error FROM builds ORDER BY id').all() as {
      status: string;
      error: string | null;
    }[];
    assert.equal(builds[0]!.status, 'interrupted');
    assert.match(builds[0]!.error!, /stopped before it finished/);
    assert.equal(builds[1]!.status, 'succeeded');
    store.close();
  });
});
