// electron-builder cannot run here (it downloads Electron), so its configuration is checked with
// electron-builder's own loader and schema validation — the same code `electron-builder` runs first.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; icon: string };
  mac: { target: string };
  win: { target: string };
}
interface ConfigModule {
  getConfig(
    projectDir: string,
    configPath: string | null,
    configFromOptions: unknown,
  ): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
}
const configModule = require('app-builder-lib/out/util/config/config') as ConfigModule;
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

async function load(): Promise<BuilderConfig> {
  return configModule.getConfig(root, join(root, 'electron-builder.yml'), null);
}

it("electron-builder.yml passes electron-builder's own schema validation", async () => {
  const config = await load();
  await configModule.validateConfiguration(config, new DebugLogger(false));
});

it('the validation is real: a misspelt option is refused', async () => {
  const config = { ...(await load()), asarUnpak: ['x'] } as unknown as BuilderConfig;
  await assert.rejects(configModule.validateConfiguration(config, new DebugLogger(false)), /asarUnpak/);
});

it('packages every platform, unpacks better-sqlite3 and turns off run-as-node and NODE_OPTIONS', async () => {
  const c = await load();
  assert.deepEqual(c.linux.target, ['AppImage', 'deb']);
  assert.equal(c.mac.target, 'dmg');
  assert.equal(c.win.target, 'nsis');
  assert.ok(c.asarUnpack.some((p) => p.includes('better-sqlite3')));
  assert.equal(c.electronFuses.runAsNode, false);
  assert.equal(c.electronFuses.enableNodeOptionsEnvironmentVariable, false);
  assert.ok(existsSync(join(root, c.linux.icon)));
  for (const r of c.extraResources) {
    if (!r.from.startsWith('kernel/build')) assert.ok(existsSync(join(root, r.from)), `${r.from} exists`);
  }
});
