import { KilnError } from '../errors.ts';
import type { Db } from './db.ts';

export interface Appliance {
  id: number;
  name: string;
  /** null for an image imported without a template */
  template: string | null;
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

interface ApplianceRow {
  id: number;
  name: string;
  template: string | null;
  config: string;
  created_at: number;
  updated_at: number;
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Checks an appliance name; the message says what a valid one looks like. */
export function checkName(name: string, field = 'name'): void {
  if (!NAME_PATTERN.test(name)) {
    throw new KilnError(
      'invalid_input',
      `Invalid name "${name}": use 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit.`,
      field,
    );
  }
}

function fromRow(r: ApplianceRow): Appliance {
  return {
    id: r.id,
    name: r.name,
    template: r.template,
    config: JSON.parse(r.config) as Record<string, unknown>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class ApplianceRepo {
  constructor(private readonly db: Db) {}

  list(): Appliance[] {
    const rows = this.db.prepare('SELECT * FROM appliances ORDER BY name').all() as ApplianceRow[];
    return rows.map(fromRow);
  }

  find(name: string): Appliance | undefined {
    const row = this.db.prepare('SELECT * FROM appliances WHERE name = ?').get(name) as
      ApplianceRow | undefined;
    return row && fromRow(row);
  }

  get(name: string): Appliance {
    const a = this.find(name);
    if (!a) throw new KilnError('not_found', `No appliance named "${name}". See \`kiln ls\`.`, 'name');
    return a;
  }

  byId(id: number): Appliance | undefined {
    const row = this.db.prepare('SELECT * FROM appliances WHERE id = ?').get(id) as ApplianceRow | undefined;
    return row && fromRow(row);
  }

  create(input: { name: string; template: string | null; config: Record<string, unknown> }): Appliance {
    checkName(input.name);
    const now = Date.now();
    try {
      const info = this.db
        .prepare(
          'INSERT INTO appliances (name, template, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(input.name, input.template, JSON.stringify(input.config), now, now);
      return this.byId(Number(info.lastInsertRowid))!;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new KilnError('conflict', `An appliance named "${input.name}" already exists.`, 'name');
      }
      throw err;
    }
  }

  rename(name: string, newName: string): Appliance {
    checkName(newName, 'newName');
    const a = this.get(name);
    if (name === newName) return a;
    try {
      this.db
        .prepare('UPDATE appliances SET name = ?, updated_at = ? WHERE id = ?')
        .run(newName, Date.now(), a.id);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new KilnError('conflict', `An appliance named "${newName}" already exists.`, 'newName');
      }
      throw err;
    }
    return this.byId(a.id)!;
  }

  updateConfig(name: string, config: Record<string, unknown>): Appliance {
    const a = this.get(name);
    this.db
      .prepare('UPDATE appliances SET config = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(config), Date.now(), a.id);
    return this.byId(a.id)!;
  }

  /** Deletes the appliance and, through the foreign keys, its builds, runs, console and samples. */
  remove(name: string): void {
    const a = this.get(name);
    this.db.prepare('DELETE FROM appliances WHERE id = ?').run(a.id);
  }
}
