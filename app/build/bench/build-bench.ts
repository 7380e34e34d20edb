// npm run bench:build [-- template ...]: build time per template through the bundled builder.
//   cold      empty cache, fresh worker (compilers loaded, every stage runs)
//   warm      same worker, a setting changed: compiled code is reused, the image is relinked
//   rebuild   same worker, no cache: every stage runs again with the compilers warm
//   hit       unchanged inputs: the cache answers
// Ratios are against the cold build of the same run. Goals: warm hello < 1 s, warm dns < 3 s,
// cache hit < 100 ms. Also prints each image's size, what it adds on top of the kernel base, its
// breakdown and the modules linked, with the size goals of issue 5 (size-goals.ts).
import { BundledBuilder } from '../bundled-builder.ts';
import { request, tempDir } from '../testing.ts';
import type { BuildArtefact } from '../types.ts';
import { TemplateRegistry } from '../../templates/registry.ts';
import { TEMPLATES_DIR } from '../testing.ts';
import { sizeLines } from './size-goals.ts';

const registry = new TemplateRegistry(TEMPLATES_DIR);
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : registry.list().map((t) => t.name);
const GOALS: Record<string, number> = { hello: 1000, dns: 3000 };

/** A setting change that only touches the configuration: an integer port or repeat count. */
function tweak(template: string): Record<string, unknown> {
  const props = registry.get(template).settings.properties;
  if ('repeat' in props) return { repeat: 2 };
  if ('port' in props) return { port: 8081 };
  if ('hostname' in props) return { hostname: 'bench' };
  return {};
}

async function timed(fn: () => Promise<BuildArtefact>): Promise<{ ms: number; a: BuildArtefact }> {
  const t0 = performance.now();
  const a = await fn();
  return { ms: performance.now() - t0, a };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const tmp = tempDir('build-bench');
try {
  console.log('template     cold ms   warm ms (ratio)   rebuild ms (ratio)   hit ms (ratio)   image');
  for (const name of names) {
    const builder = new BundledBuilder();
    const cache = `${tmp.dir}/${name}`;
    const cold = await timed(() => builder.build(request(cache, name)));
    const warm = await timed(() => builder.build(request(cache, name, tweak(name))));
    const rebuild = await timed(() => builder.build(request(cache, name, {}, { noCache: true })));
    const hit = await timed(() => builder.build(request(cache, name)));
    if (!hit.a.cached) throw new Error(`${name}: the unchanged rebuild was not a cache hit`);
    const r = (x: number) => (x / cold.ms).toFixed(3);
    console.log(
      `${name.padEnd(12)} ${cold.ms.toFixed(0).padStart(7)}   ${warm.ms.toFixed(0).padStart(7)} (${r(warm.ms)})   ${rebuild.ms.toFixed(0).padStart(10)} (${r(rebuild.ms)})   ${hit.ms.toFixed(1).padStart(6)} (${r(hit.ms)})   ${kib(cold.a.size)}`,
    );
    for (const line of sizeLines(name, cold.a)) console.log(`             ${line}`);
    console.log(
      `             stages (cold, ms): ${Object.entries(cold.a.stageMs)
        .map(([s, ms]) => `${s} ${ms}`)
        .join(', ')}`,
    );
    console.log(`             modules: ${cold.a.modules.join(' ')}`);
    const goal = GOALS[name];
    if (goal !== undefined)
      console.log(
        `             goal: warm < ${goal} ms -> ${warm.ms < goal ? 'met' : 'NOT met'}; cache hit < 100 ms -> ${hit.ms < 100 ? 'met' : 'NOT met'}`,
      );
    await builder.close();
  }
} finally {
  tmp.remove();
}
