import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors.ts';
import { checkSchema, type SettingsSchema } from './schema.ts';
import { ascOptionsOf, type AscOptions } from '../../kernel/lib/build/asc-options.ts';

export interface Template {
  name: string;
  title: string;
  description: string;
  networked: boolean;
  /** absolute path of the AssemblyScript entry file */
  entry: string;
  /** absolute path of the template folder */
  dir: string;
  /** the template's settings merged with the shared network settings when networked */
  settings: SettingsSchema;
  /** asc runtime and optimisation goal (template.json "runtime", "optimize"; asc-options.ts) */
  asc: AscOptions;
}

interface Manifest {
  name: string;
  title: string;
  description: string;
  networked?: boolean;
  entry: string;
  runtime?: unknown;
  optimize?: unknown;
  settings: unknown;
}

/** Reads the templates under resources/templates/, each folder with a template.json. */
export class TemplateRegistry {
  private readonly byName = new Map<string, Template>();

  constructor(readonly dir: string) {
    const shared = join(dir, '_network.json');
    const network = existsSync(shared)
      ? (JSON.parse(readFileSync(shared, 'utf8')) as { properties: SettingsSchema['properties'] })
      : { properties: {} };
    for (const name of readdirSync(dir).sort()) {
      const manifestPath = join(dir, name, 'template.json');
      if (name.startsWith('_') || !existsSync(manifestPath)) continue;
      const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      if (m.name !== name)
        throw new Error(`${manifestPath}: name "${m.name}" must equal its folder name "${name}"`);
      const own = checkSchema(m.settings, manifestPath);
      const asc = ascOptionsOf(m, manifestPath);
      const settings: SettingsSchema = m.networked
        ? { ...own, properties: { ...own.properties, ...network.properties } }
        : own;
      this.byName.set(name, {
        name,
        title: m.title,
        description: m.description,
        networked: m.networked === true,
        entry: join(dir, name, m.entry),
        dir: join(dir, name),
        settings,
        asc,
      });
    }
  }

  list(): Template[] {
    return [...this.byName.values()];
  }

  get(name: string): Template {
    const t = this.byName.get(name);
    if (!t) {
      const known = [...this.byName.keys()].join(', ');
      throw new KilnError(
        'invalid_input',
        `Unknown template "${name}". Available templates: ${known}.`,
        'template',
      );
    }
    return t;
  }
}
