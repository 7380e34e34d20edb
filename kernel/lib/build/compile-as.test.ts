// compileAppliance: library resolution, determinism, the Wasm feature set the bundled compiler
// accepts, diagnostics with positions and excerpts, and the result running under the Node host.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { compileAppliance } from './compile-as.ts';
import { startAppliance } from '../host/appliance.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const helloEntry = join(repo, 'resources', 'templates', 'hello', 'main.ts');

describe('compileAppliance', { timeout: 900_000 }, () => {
  test('hello: deterministic, MVP-class features only, runs and prints its greeting', async () => {
    const a = await compileAppliance({ entry: helloEntry, optimize: true });
    assert.deepEqual(
      a.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const b = await compileAppliance({ entry: helloEntry, optimize: true });
    assert.ok(Buffer.from(a.wasm).equals(Buffer.from(b.wasm)), 'same input, same bytes');
    assert.ok(a.wasm.length < 64 * 1024, `hello is ${a.wasm.length} bytes`);

    const wabt = await wabtInit();
    // Everything beyond MVP + sign-ext + sat-f2i + bulk memory + multi-value + mutable globals off.
    const mod = wabt.readWasm(a.wasm, {
      readDebugNames: false,
      mutable_globals: true,
      sat_float_to_int: true,
      sign_extension: true,
      bulk_memory: true,
      multi_value: true,
      simd: false,
      reference_types: false,
      threads: false,
      tail_call: false,
      exceptions: false,
      memory64: false,
      gc: false,
    });
    mod.validate();
    mod.destroy();

    interface Desc {
      module?: string;
      name: string;
      kind: string;
    }
    const WA = (
      globalThis as unknown as {
        WebAssembly: {
          Module: { new (b: Uint8Array): object; imports(m: object): Desc[]; exports(m: object): Desc[] };
        };
      }
    ).WebAssembly;
    const mod2 = new WA.Module(a.wasm);
    const imports = WA.Module.imports(mod2).map((i) => `${i.module}.${i.name}`);
    for (const i of imports) assert.ok(i.startsWith('kiln.') || i === 'env.abort', `unexpected import ${i}`);
    assert.ok(WA.Module.exports(mod2).some((e) => e.name === 'main' && e.kind === 'function'));

    const h = await startAppliance({ wasm: a.wasm, config: { greeting: 'Grüß dich', repeat: 2 } });
    const exit = await h.exited;
    assert.equal(exit.status, 0);
    assert.equal(h.output(), 'Grüß dich\nGrüß dich\nkiln: ready\n');
  });

  test('errors carry file, line, column, message and an excerpt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-asc-'));
    try {
      const entry = join(dir, 'main.ts');
      writeFileSync(
        entry,
        'import { print } from "kiln/console";\n\nexport function main(): i32 {\n  print(42);\n  return 0;\n}\n',
      );
      const r = await compileAppliance({ entry, optimize: false });
      assert.equal(r.wasm.length, 0);
      const e = r.diagnostics.find((d) => d.severity === 'error');
      assert.ok(e, JSON.stringify(r.diagnostics));
      assert.equal(e.file, entry);
      assert.equal(e.line, 4);
      assert.equal(e.column, 9);
      assert.match(e.message, /not assignable/);
      assert.match(e.excerpt, /print\(42\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
