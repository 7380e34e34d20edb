// A short run of the netstack fuzzer (the long runs are `npm run fuzz:netstack -- --seconds N`):
// random and mutated frames must never trap, hang or grow memory without bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TARGETS, fuzzTarget } from './fuzz-netstack.ts';

test('netstack fuzzer: 15 seconds without a trap or a hang', { timeout: 900_000 }, async () => {
  const target = TARGETS.find((t) => t.name === 'netstack')!;
  const r = await fuzzTarget(target, 15, 12345);
  assert.ok(r.frames > 1000, `only ${r.frames} frames`);
  assert.ok(r.maxConnections <= 256, 'the connection limit holds');
});
