import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KilnError } from '../errors.ts';
import { ASSET_LIMITS, AssetStore, type UploadedFile } from './asset-store.ts';
import { collectAssets } from './generate.ts';
import { tempDir } from './testing.ts';

const tmp = tempDir('asset-store');
after(() => tmp.remove());

const text = (path: string, s: string): UploadedFile => ({ path, data: new TextEncoder().encode(s) });
const refused = (fn: () => unknown, re: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof KilnError && e.code === 'invalid_input' && re.test(e.message),
  );

describe('asset store', () => {
  it('stores a folder by content, where the build reads it, with the same hash as the build', () => {
    const store = new AssetStore(join(tmp.dir, 'a'));
    const files = [text('index.html', '<h1>hi</h1>'), text('css/site.css', 'h1{}')];
    const a = store.store('folder', files);
    assert.equal(a.path, join(tmp.dir, 'a', 'assets', 'folder', a.sha256));
    assert.equal(readFileSync(join(a.path, 'css', 'site.css'), 'utf8'), 'h1{}');
    assert.deepEqual([a.files, a.bytes], [2, 15]);
    const schema = {
      type: 'object' as const,
      properties: { site: { type: 'string' as const, title: 'Site', 'x-kiln-asset': 'folder' as const } },
    };
    const [asset] = collectAssets(schema, { site: a.path }, tmp.dir);
    assert.equal(asset!.sha256, a.sha256, 'the build keys the asset by the same hash');
    // The same content again is the same asset; different content is another.
    assert.equal(store.store('folder', [...files].reverse()).path, a.path);
    assert.notEqual(store.store('folder', [text('index.html', 'other')]).path, a.path);
    assert.deepEqual(readdirSync(join(tmp.dir, 'a', 'assets')).sort(), ['folder']);
  });

  it('stores a file under its name inside its content hash', () => {
    const store = new AssetStore(join(tmp.dir, 'b'));
    const a = store.store('file', [text('example.zone', '$ORIGIN x.\n')]);
    assert.match(a.path, /assets\/file\/[0-9a-f]{64}\/example\.zone$/);
    assert.equal(readFileSync(a.path, 'utf8'), '$ORIGIN x.\n');
    refused(() => store.store('file', [text('a', '1'), text('b', '2')]), /one file, not 2/);
    refused(() => store.store('file', [text('dir/a.zone', '1')]), /one name/);
  });

  it('refuses traversal, absolute and odd names with the path in the message', () => {
    const store = new AssetStore(join(tmp.dir, 'c'));
    for (const [path, re] of [
      ['../etc/passwd', /"\.\.\/etc\/passwd".*"\.\."/],
      ['a/../../x', /must stay inside/],
      ['/etc/passwd', /absolute/],
      ['C:/Windows/x', /absolute/],
      ['a//b', /empty/],
      ['./a', /"\."/],
      ['a\\..\\b', /\\\\/],
      ['bad\u0000name', /control character/],
      ['new\nline', /control character/],
      ['', /empty name/],
      ['x'.repeat(256), /longer than 255 bytes/],
      [Array(20).fill('d').join('/'), /deeper than 16/],
    ] as const) {
      refused(() => store.store('folder', [text(path, 'x')]), re);
    }
    refused(() => store.store('folder', [text('a', '1'), text('a', '2')]), /sent twice/);
    refused(
      () => store.store('folder', [text('a', '1'), text('a/b', '2')]),
      /both as a file and as a folder/,
    );
    refused(() => store.store('folder', []), /empty/);
    assert.equal(existsSync(join(tmp.dir, 'c', 'assets', 'folder')), false, 'nothing stored');
  });

  it('enforces the size and file-count limits before writing anything', () => {
    const store = new AssetStore(join(tmp.dir, 'd'));
    refused(
      () => store.store('folder', [{ path: 'big.bin', data: new Uint8Array(ASSET_LIMITS.bytes + 1) }]),
      /limit is 16777216 bytes/,
    );
    const many = Array.from({ length: ASSET_LIMITS.files + 1 }, (_, i) => text(`f${i}`, ''));
    refused(() => store.store('folder', many), /limit is 2000/);
    assert.equal(existsSync(join(tmp.dir, 'd', 'assets')), false, 'nothing written');
  });

  it('never leaves half an asset: a failure mid-write stores nothing; leftovers are swept', () => {
    const home = join(tmp.dir, 'e');
    const store = new AssetStore(home);
    let reads = 0;
    const failing: UploadedFile = {
      path: 'c.txt',
      // Read once by the checks, then fails while being written (as a full disk would).
      get data(): Uint8Array {
        if (++reads > 1) throw new Error('ENOSPC: no space left on device');
        return new Uint8Array(3);
      },
    };
    assert.throws(() => store.store('folder', [text('a.txt', 'a'), text('b.txt', 'b'), failing]), /ENOSPC/);
    assert.deepEqual(readdirSync(join(home, 'assets')), [], 'no folder and no temporary left');
    // A process killed mid-upload leaves its temporary folder: the next store removes it.
    mkdirSync(join(home, 'assets', '.upload-999-dead'));
    writeFileSync(join(home, 'assets', '.upload-999-dead', 'half'), 'x');
    new AssetStore(home);
    assert.deepEqual(readdirSync(join(home, 'assets')), []);
  });
});
