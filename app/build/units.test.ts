// The build's pure pieces: content hashing, atomic writes, asset generation, the module scan and
// the image breakdown.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { sweepTemporaries, writeFileAtomic } from './atomic.ts';
import { blobParts, breakdown } from './breakdown.ts';
import { compileWasm } from '../../kernel/compiler/index.ts';
import { AssetError, asStringLiteral, generate } from './generate.ts';
import { canonicalJson, hashTree } from './hash.ts';
import { linkedModules } from './modules.ts';
import { tempDir } from './testing.ts';
import type { SettingsSchema } from '../templates/schema.ts';

const tmp = tempDir('build-units');
after(() => tmp.remove());

describe('content hashing', () => {
  it('canonical JSON sorts keys at every level', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } }),
      '{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('a tree hash depends on paths and contents, not on where the tree is or its mtimes', () => {
    const a = join(tmp.dir, 'tree-a');
    mkdirSync(join(a, 'sub'), { recursive: true });
    writeFileSync(join(a, 'x.ts'), 'x');
    writeFileSync(join(a, 'sub', 'y.ts'), 'y');
    const b = join(tmp.dir, 'tree-b');
    cpSync(a, b, { recursive: true });
    utimesSync(join(b, 'x.ts'), new Date(0), new Date(0));
    assert.equal(hashTree(a), hashTree(b));
    writeFileSync(join(b, 'sub', 'y.ts'), 'y2');
    assert.notEqual(hashTree(a), hashTree(b));
    assert.equal(hashTree(join(tmp.dir, 'missing')), hashTree(join(tmp.dir, 'missing-too')));
  });
});

describe('atomic writes', () => {
  it('writes the whole file and leaves no temporary behind', () => {
    const p = join(tmp.dir, 'atomic', 'image.elf');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    writeFileAtomic(p, 'replaced');
    assert.equal(readFileSync(p, 'utf8'), 'replaced');
    assert.deepEqual(readdirSync(join(tmp.dir, 'atomic')), ['image.elf']);
  });

  it('sweeps only the temporaries of the given process', () => {
    const d = join(tmp.dir, 'sweep');
    mkdirSync(d);
    writeFileSync(join(d, `.tmp-a.elf-${process.pid}-0001`), 'half');
    writeFileSync(join(d, '.tmp-b.elf-999999999-0002'), 'another process');
    writeFileSync(join(d, 'done.elf'), 'whole');
    assert.equal(sweepTemporaries(d, process.pid), 1);
    assert.deepEqual(readdirSync(d).sort(), ['.tmp-b.elf-999999999-0002', 'done.elf']);
  });
});

describe('generate stage', () => {
  const schema: SettingsSchema = {
    type: 'object',
    properties: {
      zone: { type: 'string', title: 'Zone', 'x-kiln-asset': 'file', default: 'example.zone' },
      site: { type: 'string', title: 'Site', 'x-kiln-asset': 'folder' },
      port: { type: 'integer', title: 'Port', default: 53 },
    },
  };

  it('embeds a file asset as text, keeps only its hash in the configuration', () => {
    const dir = join(tmp.dir, 'tpl');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'example.zone'), '$ORIGIN example.com.\n@ 3600 IN A 10.0.0.1 ; "quoted" \\ é\n');
    const g = generate(schema, { zone: 'example.zone', port: 53 }, dir, null);
    const config = JSON.parse(g.config) as Record<string, unknown>;
    assert.match(String(config.zone), /^sha256:[0-9a-f]{64}$/);
    assert.equal(config.port, 53);
    assert.ok(!g.config.includes(dir), 'no host path in the configuration');
    const mod = g.extraSources['kiln-assets.ts']!;
    const literal = /export const zone: string = (".*");/.exec(mod)![1]!;
    assert.equal(new Function(`return ${literal}`)(), readFileSync(join(dir, 'example.zone'), 'utf8'));
    // The same content elsewhere gives the same configuration (and so the same image key).
    const other = join(tmp.dir, 'elsewhere.zone');
    cpSync(join(dir, 'example.zone'), other);
    assert.equal(generate(schema, { zone: other, port: 53 }, dir, null).config, g.config);
  });

  it('refuses a missing asset and a folder without an embedder, naming the setting', () => {
    assert.throws(
      () => generate(schema, { zone: '/nonexistent/zone', port: 1 }, tmp.dir, null),
      (e: unknown) => e instanceof AssetError && /Zone: .* does not exist/.test(e.message),
    );
    assert.throws(() => generate(schema, { site: tmp.dir, port: 1 }, tmp.dir, null), AssetError);
    const g = generate(
      schema,
      { site: join(tmp.dir, 'tpl'), port: 1 },
      tmp.dir,
      (folder, files) => `// ${files.join(',')}\n`,
    );
    assert.equal(g.extraSources['kiln-assets/site.ts'], '// example.zone\n');
  });

  it('string literals survive any character', () => {
    const text = 'a"b\\c\n\t\u0000\u00e9\u{1f600}';
    assert.equal(new Function(`return ${asStringLiteral(text)}`)(), text);
  });
});

describe('linked modules', () => {
  it('follows kiln/ imports and relative imports inside the library', () => {
    const lib = join(tmp.dir, 'lib');
    mkdirSync(join(lib, 'dns'), { recursive: true });
    writeFileSync(join(lib, 'console.ts'), 'export function print(): void {}\n');
    writeFileSync(join(lib, 'net.ts'), 'import { x } from \'./bytes\';\nexport { y } from "./dns/name";\n');
    writeFileSync(join(lib, 'bytes.ts'), 'export const x = 1;\n');
    writeFileSync(join(lib, 'dns', 'name.ts'), "import { print } from '../console';\n");
    writeFileSync(join(lib, 'unused.ts'), '');
    const app = join(tmp.dir, 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(
      join(app, 'main.ts'),
      'import { print } from "kiln/console";\nimport { z } from "./kiln-assets";\n',
    );
    assert.deepEqual(linkedModules(join(app, 'main.ts'), lib), ['kiln/console']);
    const gen = { 'kiln-assets.ts': 'import { q } from "kiln/net";\n' };
    assert.deepEqual(linkedModules(join(app, 'main.ts'), lib, gen), [
      'kiln/bytes',
      'kiln/console',
      'kiln/dns/name',
      'kiln/net',
    ]);
    assert.ok(existsSync(join(lib, 'unused.ts')));
  });
});

describe('image breakdown', () => {
  it('splits a compiled blob into code, data, metadata and padding', async () => {
    const wabt = await wabtInit();
    const mod = wabt.parseWat(
      't.wat',
      '(module (memory 1) (data (i32.const 11) "hello") (data (i32.const 1024) "world!!") (func (export "main") (result i32) i32.const 7))',
    );
    const { blob, stats } = compileWasm(new Uint8Array(mod.toBinary({}).buffer));
    const p = blobParts(blob);
    assert.equal(p.data, 12);
    assert.equal(p.code, stats.codeBytes);
    assert.equal(p.code + p.data + p.metadata + p.padding, blob.length);
    assert.ok(p.metadata >= 160 && p.metadata <= stats.metadataBytes, `metadata ${p.metadata}`);
    const b = breakdown({
      imageBytes: 1000,
      baseBytes: 400,
      blob: { code: 300, data: 200, metadata: 20, padding: 10 },
      configBytes: 20,
      assetBytes: 50,
    });
    assert.deepEqual(b, {
      kernelBase: 400,
      code: 300,
      data: 170,
      assets: 50,
      metadata: 20,
      padding: 60,
      other: 80,
      total: 1000,
    });
  });
});
