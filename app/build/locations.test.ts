// A packaged app's build resolves everything from its resources folder: this lays one out the
// way electron-builder.yml says (extraResources beside the asar, the worker bundle made by
// scripts/build.mjs inside the app), builds a template that exists only there, importing a
// library module that exists only there, through the bundled worker, and checks the image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { Engine } from '../engine.ts';
import { repoRoot } from '../paths.ts';
import { WORKER_BUNDLE } from './locations.ts';
import { TEMPLATES_DIR, tempDir } from './testing.ts';

const tmp = tempDir('packaged');
after(() => tmp.remove());

interface ExtraResource {
  from: string;
  to: string;
  filter?: string[];
}

/** electron-builder.yml read with electron-builder's own loader (as scripts/electron-builder.test.ts). */
async function extraResources(root: string): Promise<ExtraResource[]> {
  const require = createRequire(import.meta.url);
  const { getConfig } = require('app-builder-lib/out/util/config/config') as {
    getConfig(dir: string, path: string, opts: null): Promise<{ extraResources: ExtraResource[] }>;
  };
  return (await getConfig(root, join(root, 'electron-builder.yml'), null)).extraResources;
}

// The filter form the file uses: an extension under any folder, maybe negated (later rules win);
// any other form fails the test rather than being guessed at.
function filterFn(patterns: string[] | undefined): (rel: string) => boolean {
  if (!patterns) return () => true;
  const rules = patterns.map((p) => {
    const m = /^(!?)\*\*\/\*(\.[\w.]+)$/.exec(p);
    if (!m) throw new Error(`electron-builder.yml filter "${p}": teach this test its meaning`);
    return { exclude: m[1] === '!', suffix: m[2]! };
  });
  return (rel) => {
    let keep = false;
    for (const r of rules) if (rel.endsWith(r.suffix)) keep = !r.exclude;
    return keep;
  };
}

async function layOutPackagedApp(): Promise<{ resourcesPath: string; appDir: string }> {
  const root = repoRoot();
  const resourcesPath = join(tmp.dir, 'resources');
  const appDir = join(resourcesPath, 'app');
  // extraResources exactly as electron-builder.yml lists them.
  for (const r of await extraResources(root)) {
    const from = join(root, r.from);
    const keep = filterFn(r.filter);
    mkdirSync(dirname(join(resourcesPath, r.to)), { recursive: true });
    cpSync(from, join(resourcesPath, r.to), {
      recursive: true,
      filter: (src) => statSync(src).isDirectory() || src === from || keep(src),
    });
  }
  // The app: package.json, the worker bundle, and its production packages.
  mkdirSync(appDir, { recursive: true });
  cpSync(join(root, 'package.json'), join(appDir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(appDir, 'node_modules'));
  execFileSync(
    process.execPath,
    [join(root, 'scripts', 'build.mjs'), 'worker', join(appDir, WORKER_BUNDLE)],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  // Inputs that exist only in this layout: a library module and a template that uses it.
  writeFileSync(
    join(resourcesPath, 'kernel', 'lib', 'packaged-probe.ts'),
    'export function probe(): string {\n  return "resolved from the packaged kernel/lib";\n}\n',
  );
  const probeDir = join(resourcesPath, 'resources', 'templates', 'probe');
  cpSync(join(TEMPLATES_DIR, 'hello'), probeDir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(probeDir, 'template.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(
    join(probeDir, 'template.json'),
    JSON.stringify({ ...manifest, name: 'probe', title: 'Probe' }),
  );
  writeFileSync(
    join(probeDir, 'main.ts'),
    'import { print } from "kiln/console";\nimport { probe } from "kiln/packaged-probe";\n' +
      'export function main(): i32 {\n  print(probe());\n  print("kiln: ready");\n  return 0;\n}\n',
  );
  return { resourcesPath, appDir };
}

it('a packaged app builds from process.resourcesPath through the bundled worker', async () => {
  const packaged = await layOutPackagedApp();
  const engine = Engine.open({ home: join(tmp.dir, 'home'), packaged });
  try {
    const loc = engine.buildLocations;
    assert.equal(loc.layout, 'packaged');
    assert.equal(loc.templatesDir, join(packaged.resourcesPath, 'resources', 'templates'));
    assert.equal(loc.baseImage, join(packaged.resourcesPath, 'kernel', 'kiln-base.elf'));
    assert.equal(loc.toolchain.libDir, join(packaged.resourcesPath, 'kernel', 'lib'));
    assert.equal(fileURLToPath(loc.workerUrl), join(packaged.appDir, 'dist', 'app', 'build-worker.js'));
    assert.equal(engine.resources, join(packaged.resourcesPath, 'resources'));

    engine.appliances.create({ name: 'probe-1', template: 'probe', settings: {} });
    const { done } = engine.builds.start('probe-1');
    const view = await done;
    const log = engine.builds.get(view.id).log;
    assert.equal(view.status, 'succeeded', log);
    assert.ok(view.artefact!.modules.includes('kiln/packaged-probe'), view.artefact!.modules.join(' '));
    // kiln/packaged-probe exists only in this layout's kernel/lib: asc found it there.
    assert.match(log, /\[compile-as\] Wasm: \d+ bytes/);
    assert.match(log, /\[link\] kernel base \d+ bytes/);
  } finally {
    await engine.close();
  }
});
