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

/**
 * Failures triaged in STATUS.md and owned by another part (file:line -> STATUS.md category).
 * They are still printed by `npm run test:spec`; here any OTHER failure fails the test, and a
 * listed one that passes is reported (remove it from this list then).
 */
const KNOWN_FAILURES: Record<string, string> = {};

describe('WebAssembly spec suite', { skip: existsSync(SUITE) ? false : `no suite at ${SUITE}` }, () => {
  const files = existsSync(SUITE)
    ? readdirSync(SUITE)
        .filter((f) => f.endsWith('.wast'))
        .sort()
    : [];
  for (const f of files) {
    it(f, async (t) => {
      const r = await runScript(join(SUITE, f), { execute: true });
      const unexpected = r.failures.filter((x) => !KNOWN_FAILURES[`${f}:${x.line}`]);
      const lines = unexpected.slice(0, 10).map((x) => `line ${x.line} ${x.command}: ${x.detail}`);
      assert.equal(unexpected.length, 0, `${unexpected.length} failed:\n${lines.join('\n')}`);
      const failedLines = new Set(r.failures.map((x) => x.line));
      for (const [k, why] of Object.entries(KNOWN_FAILURES)) {
        const [file, line] = k.split(':');
        if (file !== f) continue;
        if (failedLines.has(Number(line))) t.diagnostic(`known failure ${k} (${why})`);
        else t.diagnostic(`known failure ${k} now passes: remove it from KNOWN_FAILURES`);
      }
      for (const reason of r.skips.keys()) {
        assert.ok(
          ALLOWED_SKIPS.some((re) => re.test(reason)),
          `unexpected skip reason: ${reason}`,
        );
      }
      assert.equal(r.notRun, 0);
    });
  }
});
