// The whole WebAssembly spec suite (../shared/wasm-testsuite), each file one test: decoding,
// validation AND execution through Kiln's compiler and the Linux harness. Fails on any failed
// assertion. Skips are allowed only with a reason (refused features; see README.md here), and
// the reasons are checked against the list of refused features so a new kind of skip is noticed.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { runScript } from './runner.ts';

const SUITE = resolve(import.meta.dirname, '../../../../shared/wasm-testsuite');

/** Every skip reason must name one of these (the features Kiln refuses, or wabt's limits). */
const ALLOWED_SKIPS = [
  /^reference types \(/,
  /^bulk table operations \(/,
  /^SIMD/,
  /^cross-module linking/,
  /^not encodable via wabt:/,
];

describe('WebAssembly spec suite', { skip: existsSync(SUITE) ? false : `no suite at ${SUITE}` }, () => {
  const files = existsSync(SUITE) ? readdirSync(SUITE).filter((f) => f.endsWith('.wast')).sort() : [];
  for (const f of files) {
    it(f, async () => {
      const r = await runScript(join(SUITE, f), { execute: true });
      const failures = r.failures.slice(0, 10).map((x) => `line ${x.line} ${x.command}: ${x.detail}`);
      assert.equal(r.failed, 0, `${r.failed} failed:\n${failures.join('\n')}`);
      for (const reason of r.skips.keys()) {
        assert.ok(ALLOWED_SKIPS.some((re) => re.test(reason)), `unexpected skip reason: ${reason}`);
      }
      assert.equal(r.notRun, 0);
    });
  }
});
