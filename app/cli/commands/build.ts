// kiln build <name> [--docker] [--no-cache] [--json]: prints the stages as they run, then the
// image's path, size and sha256; non-zero exit on failure (the first compiler error with
// file:line:column, never a stack trace).
// kiln import <name> <kernel.elf> [--json]: a PVH or Multiboot image built elsewhere.
import { bool } from '../args.ts';
import type { Command } from '../command.ts';
import { STAGE_TITLES } from '../../build/types.ts';
import { importImage } from '../../import/import-image.ts';

const json = { type: 'boolean', help: 'print JSON' } as const;

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export const buildCommand: Command = {
  name: 'build',
  args: '<name> [--docker] [--no-cache]',
  summary: 'build an appliance into a bootable image',
  flags: {
    docker: { type: 'boolean', help: 'build in the pinned builder container' },
    'no-cache': { type: 'boolean', help: 'rebuild every stage' },
    verbose: { type: 'boolean', short: 'v', help: 'print the full build log' },
    json,
  },
  positionals: [1, 1],
  async run(p, ctx) {
    const [name] = p.positionals as [string];
    const engine = ctx.engine();
    const { buildId, done } = engine.builds.start(name, {
      builder: bool(p, 'docker') ? 'docker' : 'bundled',
      noCache: bool(p, 'no-cache'),
    });
    const verbose = bool(p, 'verbose');
    const stages: { stage: string; state: string; ms?: number }[] = [];
    const unsubscribe = engine.builds.subscribe(buildId, (e) => {
      if (e.type === 'stage' && e.state !== 'running') {
        stages.push({ stage: e.stage, state: e.state, ...(e.ms !== undefined ? { ms: e.ms } : {}) });
        if (!ctx.json)
          ctx.err(
            `${e.state.padEnd(9)} ${STAGE_TITLES[e.stage]}${e.ms !== undefined ? ` (${e.ms} ms)` : ''}`,
          );
      } else if (e.type === 'log' && verbose && !ctx.json) ctx.err(`  ${e.line}`);
    });
    void ctx.interrupted.then(() => engine.builds.cancel(buildId));
    const view = await done;
    unsubscribe();
    const failure = view.status === 'succeeded' ? null : engine.builds.get(buildId);
    if (ctx.json) {
      ctx.out(
        JSON.stringify(
          {
            buildId,
            status: view.status,
            builder: view.builder,
            stages,
            image: view.imagePath,
            size: view.imageSize,
            sha256: view.imageSha256,
            cached: view.artefact?.cached ?? false,
            modules: view.artefact?.modules ?? [],
            breakdown: view.artefact?.breakdown ?? null,
            reproducible: view.reproducible,
            error: view.error,
          },
          null,
          2,
        ),
      );
    } else if (view.status === 'succeeded') {
      const a = view.artefact;
      ctx.out(`image   ${view.imagePath}`);
      ctx.out(
        `size    ${view.imageSize} bytes (${kib(view.imageSize ?? 0)})${a?.cached ? ', from the cache' : ''}`,
      );
      ctx.out(`sha256  ${view.imageSha256}`);
      if (a) {
        const b = a.breakdown;
        ctx.out(
          `parts   kernel base ${kib(b.kernelBase)}, code ${kib(b.code)}, data ${kib(b.data)}, assets ${kib(b.assets)}, ${b.metadata === undefined || b.padding === undefined ? `other ${kib(b.other)}` : `metadata ${kib(b.metadata)}, padding ${kib(b.padding)}`}`,
        );
        ctx.out(`modules ${a.modules.join(' ') || '(none)'}`);
      }
      if (view.reproducible !== null)
        ctx.out(
          `reproducible ${view.reproducible ? 'yes (the other builder gave the same bytes)' : 'NO: the other builder gave different bytes'}`,
        );
    } else {
      ctx.err(`${view.status}: ${view.error ?? ''}`);
      const log = failure?.log ?? '';
      const diag = log
        .split('\n')
        .filter((l) => l.startsWith('[compile-as]') && !l.includes(' asc '))
        .map((l) => l.replace(/^\[compile-as\] /, ''));
      if (diag.length > 0 && !verbose) ctx.err(diag.slice(0, 12).join('\n'));
    }
    return view.status === 'succeeded' ? 0 : 1;
  },
};

export const importCommand: Command = {
  name: 'import',
  args: '<name> <kernel.elf>',
  summary: 'import a PVH or Multiboot kernel image as an appliance',
  flags: { json },
  positionals: [2, 2],
  async run(p, ctx) {
    const [name, path] = p.positionals as [string, string];
    const engine = ctx.engine();
    const r = importImage(engine.store, engine.events, engine.home, { name, path });
    if (ctx.json) {
      ctx.out(
        JSON.stringify(
          {
            appliance: r.appliance,
            buildId: r.build.id,
            image: r.build.imagePath,
            size: r.build.imageSize,
            sha256: r.build.imageSha256,
            protocols: r.protocols,
            machine: r.machine,
          },
          null,
          2,
        ),
      );
    } else {
      ctx.out(
        `Imported ${name}: ${r.protocols.join(', ')} ${r.machine} image, ${r.build.imageSize} bytes, sha256 ${r.build.imageSha256}.`,
      );
      ctx.out(`Run it: kiln run ${name}`);
    }
    return 0;
  },
};
