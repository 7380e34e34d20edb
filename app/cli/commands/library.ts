// Appliance library commands: templates, new, ls, show, rename, rm.
import { list, UsageError } from '../args.ts';
import { ago, table, type Command } from '../command.ts';

const json = { type: 'boolean', help: 'print JSON' } as const;

export const templatesCommand: Command = {
  name: 'templates',
  args: '',
  summary: 'list appliance templates',
  flags: { json },
  positionals: [0, 0],
  async run(_p, ctx) {
    const ts = ctx.engine().templates.list();
    if (ctx.json) {
      ctx.out(
        JSON.stringify(
          ts.map((t) => ({
            name: t.name,
            title: t.title,
            description: t.description,
            networked: t.networked,
            settings: t.settings,
          })),
          null,
          2,
        ),
      );
      return 0;
    }
    const rows = [['NAME', 'NETWORK', 'SETTINGS', 'DESCRIPTION']];
    for (const t of ts) {
      const settings = Object.keys(t.settings.properties).join(',');
      rows.push([t.name, t.networked ? 'yes' : 'no', settings, t.description.split('. ')[0] ?? '']);
    }
    ctx.out(table(rows));
    return 0;
  },
};

/** --set key=value pairs; the value is converted to the setting's type by the engine. */
function settingsFrom(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set needs key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export const newCommand: Command = {
  name: 'new',
  args: '<template> <name> [--set key=value ...]',
  summary: 'create an appliance from a template',
  flags: { set: { type: 'list', value: 'key=value', help: 'a setting (repeatable)' }, json },
  positionals: [2, 2],
  async run(p, ctx) {
    const [template, name] = p.positionals as [string, string];
    const a = ctx.engine().appliances.create({ template, name, settings: settingsFrom(list(p, 'set')) });
    ctx.out(ctx.json ? JSON.stringify(a, null, 2) : `Created ${a.name} (template ${a.template}).`);
    return 0;
  },
};

export const lsCommand: Command = {
  name: 'ls',
  args: '',
  summary: 'list appliances in the library',
  flags: { json },
  positionals: [0, 0],
  async run(_p, ctx) {
    const engine = ctx.engine();
    const all = engine.appliances.list();
    if (ctx.json) {
      ctx.out(JSON.stringify(all, null, 2));
      return 0;
    }
    if (all.length === 0) {
      ctx.out('No appliances yet. Create one: kiln new hello my-first');
      return 0;
    }
    const rows = [['NAME', 'TEMPLATE', 'LAST BUILD', 'CREATED']];
    for (const a of all) {
      const b = engine.store.builds.listFor(a.id, 1)[0];
      rows.push([
        a.name,
        a.template ?? '(imported)',
        b ? `${b.status} ${ago(b.startedAt ?? 0)}` : '-',
        ago(a.createdAt),
      ]);
    }
    ctx.out(table(rows));
    return 0;
  },
};

export const showCommand: Command = {
  name: 'show',
  args: '<name>',
  summary: 'show an appliance, its settings and recent builds',
  flags: { json },
  positionals: [1, 1],
  async run(p, ctx) {
    const engine = ctx.engine();
    const a = engine.appliances.get(p.positionals[0]!);
    const builds = engine.store.builds.listFor(a.id, 10);
    if (ctx.json) {
      ctx.out(JSON.stringify({ ...a, builds }, null, 2));
      return 0;
    }
    const lines = [
      `name:      ${a.name}`,
      `template:  ${a.template ?? '(imported)'}`,
      `created:   ${new Date(a.createdAt).toISOString()}`,
      'settings:',
    ];
    for (const [k, v] of Object.entries(a.config)) lines.push(`  ${k} = ${JSON.stringify(v)}`);
    lines.push(builds.length ? 'builds:' : 'builds:    none yet (kiln build ' + a.name + ')');
    for (const b of builds)
      lines.push(
        `  #${b.id} ${b.status}${b.imageSha256 ? ` ${b.imageSize} bytes sha256:${b.imageSha256.slice(0, 12)}` : ''}${b.error ? ` — ${b.error}` : ''}`,
      );
    ctx.out(lines.join('\n'));
    return 0;
  },
};

export const renameCommand: Command = {
  name: 'rename',
  args: '<name> <new-name>',
  summary: 'rename an appliance',
  flags: { json },
  positionals: [2, 2],
  async run(p, ctx) {
    const a = ctx.engine().appliances.rename(p.positionals[0]!, p.positionals[1]!);
    ctx.out(ctx.json ? JSON.stringify(a, null, 2) : `Renamed ${p.positionals[0]} to ${a.name}.`);
    return 0;
  },
};

export const rmCommand: Command = {
  name: 'rm',
  args: '<name> [<name> ...]',
  summary: 'delete appliances with their builds, runs and logs',
  flags: { json },
  positionals: [1, Infinity],
  async run(p, ctx) {
    const engine = ctx.engine();
    // Check every name first: a typo in the third name must not leave the first two deleted.
    for (const n of p.positionals) engine.appliances.get(n);
    for (const n of p.positionals) engine.appliances.remove(n);
    ctx.out(ctx.json ? JSON.stringify({ removed: p.positionals }) : `Removed ${p.positionals.join(', ')}.`);
    return 0;
  },
};
