// The bundled build, for real: asc + the library OS, Kiln's compiler and linker, the kernel base,
// and QEMU booting the result. One hello build is shared by the checks that only read it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BundledBuilder } from './bundled-builder.ts';
import { BuildFailure } from './errors.ts';
import { copyTemplates, request, tempDir } from './testing.ts';
import type { BuildArtefact, BuildEvent } from './types.ts';
import { bootImage, ensureKernelBuilt } from '../../kernel/base/test/qemu-run.ts';

describe('bundled build pipeline', () => {
  const tmp = tempDir('build');
  const cache = join(tmp.dir, 'cache');
  const builder = new BundledBuilder();
  let first: BuildArtefact;
  const events: BuildEvent[] = [];
  let changedImage = '';

  before(async () => {
    ensureKernelBuilt();
    first = await builder.build(
      request(cache, 'hello', { greeting: 'Hello from the build test', repeat: 2 }),
      {
        onEvent: (e) => events.push(e),
      },
    );
  });
  after(async () => {
    await builder.close();
    tmp.remove();
  });

  it('reports every stage in order and streams the log', () => {
    const running = events
      .filter((e) => e.type === 'stage' && e.state === 'running')
      .map((e) => e.type === 'stage' && e.stage);
    assert.deepEqual(running, ['resolve', 'generate', 'compile-as', 'compile-native', 'link', 'record']);
    const logs = events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.line : ''));
    assert.ok(
      logs.some((l) => l.startsWith('asc main.ts')),
      logs.join('\n'),
    );
    assert.ok(logs.some((l) => l.includes(first.sha256)));
  });

  it('records the artefact: path, size, sha256, modules and breakdown', () => {
    const bytes = readFileSync(first.path);
    assert.equal(bytes.length, first.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), first.sha256);
    assert.equal(first.cached, false);
    // Specialisation: hello links the console and config modules and no network stack.
    assert.ok(first.modules.includes('kiln/console'), first.modules.join(','));
    assert.ok(first.modules.includes('kiln/config'));
    assert.ok(
      !first.modules.some((m) => m.startsWith('kiln/net') || m.startsWith('kiln/tcp')),
      first.modules.join(','),
    );
    const b = first.breakdown;
    assert.equal(b.total, first.size);
    assert.ok(b.kernelBase > 0 && b.code > 0 && b.data > 0);
    assert.equal(b.kernelBase + b.code + b.data + b.assets + b.other, b.total);
    for (const s of ['resolve', 'generate', 'compile-as', 'compile-native', 'link'] as const) {
      assert.equal(typeof first.stageMs[s], 'number', s);
    }
  });

  it('boots under QEMU, prints the configured greeting and the ready line, exits 0', async () => {
    const r = await bootImage({ image: first.path, timeoutMs: 60000 });
    assert.equal(r.exitStatus, 0, r.stdout + r.stderr);
    const greetings = r.stdout.split('\n').filter((l) => l.trim() === 'Hello from the build test');
    assert.equal(greetings.length, 2, r.stdout);
    assert.match(r.stdout, /kiln: ready/);
  });

  it('is deterministic: rebuilding everything gives the same bytes', async () => {
    const again = await builder.build(
      request(cache, 'hello', { greeting: 'Hello from the build test', repeat: 2 }, { noCache: true }),
    );
    assert.equal(again.cached, false);
    assert.equal(again.sha256, first.sha256);
  });

  it('a rebuild of unchanged inputs is a cache hit that reports the cached artefact', async () => {
    const stageStates: string[] = [];
    const hit = await builder.build(
      request(cache, 'hello', { greeting: 'Hello from the build test', repeat: 2 }),
      {
        onEvent: (e) => e.type === 'stage' && stageStates.push(`${e.stage}:${e.state}`),
      },
    );
    assert.equal(hit.cached, true);
    assert.equal(hit.path, first.path);
    assert.equal(hit.sha256, first.sha256);
    assert.ok(stageStates.includes('link:cached'), stageStates.join(' '));
  });

  it('a changed setting relinks (same compiled code, new image); defaults fill missing settings', async () => {
    const states: string[] = [];
    const changed = await builder.build(request(cache, 'hello', { greeting: 'Changed', repeat: 2 }), {
      onEvent: (e) => e.type === 'stage' && states.push(`${e.stage}:${e.state}`),
    });
    assert.equal(changed.cached, false);
    assert.notEqual(changed.key, first.key);
    assert.notEqual(changed.sha256, first.sha256);
    assert.ok(
      states.includes('compile-as:cached') && states.includes('compile-native:cached'),
      states.join(' '),
    );
    changedImage = changed.path;
  });

  it('the relinked image prints the changed greeting', async () => {
    const r = await bootImage({ image: changedImage, timeoutMs: 60000 });
    assert.match(r.stdout, /^Changed$/m, r.stdout);
  });

  it('a changed template source recompiles; a syntax error names file:line:column with an excerpt', async () => {
    const templates = copyTemplates(tmp.dir);
    const entry = join(templates, 'hello', 'main.ts');
    const source = readFileSync(entry, 'utf8');
    const lines = source.split('\n');
    const at = lines.findIndex((l) => l.includes('print("kiln: ready")'));
    lines[at] = '  print("kiln: ready"';
    writeFileSync(entry, lines.join('\n'));
    const failure = await builder.build(request(cache, 'hello', {}, { templatesDir: templates })).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(failure instanceof BuildFailure, String(failure));
    assert.equal(failure.stage, 'compile-as');
    const d = failure.diagnostics[0]!;
    assert.equal(d.file, entry);
    assert.equal(d.line, at + 1);
    assert.ok(d.column > 0);
    assert.match(d.excerpt, /print\("kiln: ready"\n\s*\^/);
    assert.match(failure.message, new RegExp(`${entry}:${at + 1}:${d.column}: `));
    assert.doesNotMatch(failure.message, /\n\s+at /); // no stack trace

    // A valid edit (another line printed) is a cache miss at the compile stage.
    lines[at] = '  print("edited"); print("kiln: ready");';
    writeFileSync(entry, lines.join('\n'));
    const states: string[] = [];
    const edited = await builder.build(
      request(
        cache,
        'hello',
        { greeting: 'Hello from the build test', repeat: 2 },
        { templatesDir: templates },
      ),
      {
        onEvent: (e) => e.type === 'stage' && states.push(`${e.stage}:${e.state}`),
      },
    );
    assert.ok(states.includes('compile-as:done'), states.join(' '));
    assert.notEqual(edited.key, first.key);
  });

  it('invalid settings fail in the resolve stage with the field named', async () => {
    const failure = await builder.build(request(cache, 'hello', { repeat: 0 })).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(failure instanceof BuildFailure);
    assert.equal(failure.stage, 'resolve');
    assert.match(failure.message, /repeat/);
    assert.equal(failure.code, 'invalid_input');
  });

  it('cancelling mid-build rejects as cancelled and leaves no artefact or temporary file', async () => {
    const cancelCache = join(tmp.dir, 'cancel-cache');
    const ac = new AbortController();
    const states: string[] = [];
    // noCache: asc must really run (the test run's shared asc memo would finish the build
    // before the cancel arrives).
    const pending = builder.build(
      request(cancelCache, 'hello', { greeting: 'never built' }, { noCache: true }),
      {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type !== 'stage') return;
          states.push(`${e.stage}:${e.state}`);
          if (e.stage === 'compile-as' && e.state === 'running') ac.abort();
        },
      },
    );
    const failure = await pending.then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(failure instanceof BuildFailure, String(failure));
    assert.equal(failure.cancelled, true);
    assert.equal(failure.code, 'cancelled');
    const images = join(cancelCache, 'images');
    assert.deepEqual(existsSync(images) ? readdirSync(images) : [], []);
    for (const sub of ['wasm', 'native']) {
      const d = join(cancelCache, sub);
      if (existsSync(d))
        assert.deepEqual(
          readdirSync(d).filter((n) => n.startsWith('.tmp-')),
          [],
        );
    }
    // The builder still works afterwards (a fresh worker replaces the terminated one).
    const ok = await builder.build(
      request(cache, 'hello', { greeting: 'Hello from the build test', repeat: 2 }),
    );
    assert.equal(ok.sha256, first.sha256);
  });
});

describe('dns zone compiled at build time', () => {
  const tmp = tempDir('build-zone');
  const cache = join(tmp.dir, 'cache');
  const builder = new BundledBuilder();
  after(async () => {
    await builder.close();
    tmp.remove();
  });

  const failureOf = (settings: Record<string, unknown>): Promise<unknown> =>
    builder.build(request(cache, 'dns', settings)).then(
      () => null,
      (e: unknown) => e,
    );

  it('a bad zone fails the generate stage with the line and the setting; no image is made', async () => {
    const inline = await failureOf({ zone_text: '$ORIGIN x.\n@ SOA a b 1 2 3 4 5\nwww A 1.2.3\n' });
    assert.ok(inline instanceof BuildFailure, String(inline));
    assert.equal(inline.stage, 'generate');
    assert.equal(inline.code, 'invalid_input');
    assert.equal(inline.message, 'zone error: line 3: bad IPv4 address (setting "zone_text")');
    const file = join(tmp.dir, 'bad.zone');
    writeFileSync(file, '$ORIGIN x.\n@ SOA a b ( 1 2 3 4 5\n');
    const fromFile = await failureOf({ zone_file: file });
    assert.ok(fromFile instanceof BuildFailure, String(fromFile));
    assert.match(fromFile.message, /^zone error: line 3: unbalanced "\(" \(setting "zone_file"\)$/);
    assert.ok(!existsSync(join(cache, 'images')) || readdirSync(join(cache, 'images')).length === 0);
  });

  it('a changed zone relinks only: the appliance is compiled once and holds no parser', async () => {
    const first = await builder.build(request(cache, 'dns', {}));
    assert.ok(!first.modules.includes('kiln/dns/master-file'), first.modules.join(','));
    const states: string[] = [];
    const changed = await builder.build(
      request(cache, 'dns', { zone_text: '$ORIGIN x.\n@ SOA a b 1 2 3 4 5\nwww A 10.0.0.1\n' }),
      { onEvent: (e) => e.type === 'stage' && states.push(`${e.stage}:${e.state}`) },
    );
    assert.notEqual(changed.sha256, first.sha256);
    assert.ok(
      states.includes('compile-as:cached') && states.includes('compile-native:cached'),
      states.join(' '),
    );
  });
});
