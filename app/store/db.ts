import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { KilnError } from '../errors.ts';
import { migrations, type Migration } from './migrations/index.ts';

export type Db = Database.Database;

/** Opens (creating if needed) the library database and brings its schema to the newest version. */
export function openDatabase(file: string, list: readonly Migration[] = migrations): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // WAL: readers never block the writer, and a SIGKILL at any moment leaves the last
    // committed transaction intact. synchronous=NORMAL is crash-safe in WAL mode (only the last
    // transactions may be lost on power failure, never consistency).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, list);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db, list: readonly Migration[] = migrations): void {
  const newest = list.length === 0 ? 0 : list[list.length - 1]!.version;
  const current = schemaVersion(db);
  if (current > newest) {
    throw new KilnError(
      'conflict',
      `This library (${db.name}) was written by a newer Kiln (schema version ${current}; this Kiln ` +
        `knows up to ${newest}). Upgrade Kiln, or point KILN_HOME at another folder.`,
    );
  }
  for (const m of list) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
