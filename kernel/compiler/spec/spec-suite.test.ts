// The whole WebAssembly spec suite (../shared/wasm-testsuite), each file one test: decoding,
// validation AND execution through Kiln's compiler and the Linux harness. Fails on any failed
// assertion. Skips are allowed only with a reason (refused features; see README.md here), and
// the reasons are checked against the list of refused features so a new kind of skip is noticed.
// The totals over the whole suite are pinned (TOTALS): fewer passes or more skips than the last
// recorded run fail, and so does an improvement not yet recorded here and in STATUS.md.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runScript } from './runner.ts';

const SUITE = resolve(import.meta.dirname, '../../../../shared/wasm-testsuite');

/** Every skip reason must name one of these: the features Kiln refuses. */
const ALLOWED_SKIPS = [/^reference types \(/, /^bulk table operations \(/, /^SIMD/];

/** The whole suite's figures in the last full run (STATUS.md). */
const TOTALS = { passed: 24172, failed: 0, skipped: 3244 };

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
  const sum = { passed: 0, failed: 0, skipped: 0, files: 0 };
  after(() => {
    // Only when every file ran (a filtered run, e.g. --test-name-pattern, cannot check totals).
    if (sum.files !== files.length) return;
    assert.deepEqual(
      { passed: sum.passed, failed: sum.failed, skipped: sum.skipped },
      TOTALS,
      'spec suite totals changed: a regression, or an improvement to record in TOTALS and STATUS.md',
    );
  });
  for (const f of files) {
    it(f, async (t) => {
      const r = await runScript(join(SUITE, f), { execute: true });
      sum.passed += r.passed;
      sum.failed += r.failed;
      sum.skipped += r.skipped;
      sum.files++;
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
