// A short run of the protocol fuzz targets (long runs: `npm run fuzz:netstack -- --target
// dns|http|resp --seconds N`): DNS messages with compression loops, malformed and pipelined
// HTTP requests, broken RESP must never trap, hang or grow memory without bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzTarget } from '../fuzz/fuzz-netstack.ts';
import { PROTOCOL_TARGETS } from './protocol-fuzz-targets.ts';

for (const target of PROTOCOL_TARGETS) {
  test(`${target.name} fuzz target: 10 seconds without a trap or a hang`, { timeout: 900_000 }, async () => {
    const r = await fuzzTarget(target, 10, 4242);
    assert.ok(r.frames > 500, `only ${r.frames} inputs`);
    assert.ok(r.maxMemoryBytes <= 64 * 1024 * 1024, `memory grew to ${r.maxMemoryBytes} bytes`);
  });
}
