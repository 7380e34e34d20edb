// A packaged app's build resolves everything from its resources folder: this lays one out the
// way electron-builder.yml says (extraResources beside the asar, the worker bundle made by
// scripts/build.mjs inside the app), builds a template that exists only there, importing a
// library module that exists only there, through the bundled worker, and checks the image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { Engine } from '../engine.ts';
import { repoRoot } from '../paths.ts';
import { WORKER_BUNDLE } from './locations.ts';
import { BASE_IMAGE, TEMPLATES_DIR, tempDir } from './testing.ts';

const tmp = tempDir('packaged');
after(() => tmp.remove());

function layOutPackagedApp(): { resourcesPath: string; appDir: string } {
  const root = repoRoot();
  const resourcesPath = join(tmp.dir, 'resources');
  const appDir = join(resourcesPath, 'app');
  // extraResources (electron-builder.yml): templates, the kernel base, kernel/lib without tests.
  cpSync(TEMPLATES_DIR, join(resourcesPath, 'resources', 'templates'), { recursive: true });
  mkdirSync(join(resourcesPath, 'kernel'), { recursive: true });
  cpSync(BASE_IMAGE, join(resourcesPath, 'kernel', 'kiln-base.elf'));
  cpSync(join(root, 'kernel', 'lib'), join(resourcesPath, 'kernel', 'lib'), {
    recursive: true,
    // electron-builder.yml: filter ['**/*.ts', '!**/*.test.ts']
    filter: (src) =>
      statSync(src).isDirectory()
        ? basename(src) !== 'node_modules'
        : src.endsWith('.ts') && !src.endsWith('.test.ts'),
  });
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
  const packaged = layOutPackagedApp();
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
