// Short runs of every fuzz target (the ten-minute runs are `npm run fuzz:netstack -- --seconds N
// --target T`, by hand): random and mutated inputs must never trap, hang or pass the memory and
// counter bounds, and each layer target must reach its layer (its counters, the TCP/DHCP states),
// which the same inputs spoilt at the Ethernet header must not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAYER_TARGETS, TARGET_FACTORIES, fuzzTarget, summary } from './fuzz-netstack.ts';
import type { FuzzTarget } from './runner.ts';

const SEED = 12345;
/** Inputs per target: enough for each layer target to reach every state it names. */
const inputs = (name: string): number => (LAYER_TARGETS.includes(name) ? 10_000 : 3000);

for (const name of Object.keys(TARGET_FACTORIES)) {
  test(
    `fuzz target ${name}: no trap, hang or unbounded growth${LAYER_TARGETS.includes(name) ? ', and it reaches its layer' : ''}`,
    { timeout: 300_000 },
    async () => {
      const target = TARGET_FACTORIES[name]!();
      // A fixed number of inputs (not seconds): the same inputs on a fast or a loaded machine.
      const r = await fuzzTarget(target, 120, SEED, inputs(name));
      console.log(summary(r, SEED));
      assert.equal(r.iterations, inputs(name), 'the run was not cut short');
      assert.deepEqual(target.unmet?.(r.coverage) ?? [], []);
      if (name === 'tcp' || name === 'netstack')
        assert.ok(r.maxConnections <= 256, 'the connection limit holds');
    },
  );
}

/** The same target with every frame sent to another host's MAC: rejected at the Ethernet header. */
function spoilt(t: FuzzTarget): FuzzTarget {
  const other = Buffer.from([0x02, 0, 0, 0, 0, 0x09]);
  return { ...t, next: (rng, sent) => t.next(rng, sent).map((f) => Buffer.concat([other, f.subarray(6)])) };
}

test('the reach checks fail for inputs rejected at the Ethernet header', { timeout: 300_000 }, async () => {
  for (const name of LAYER_TARGETS) {
    const target = spoilt(TARGET_FACTORIES[name]!());
    const r = await fuzzTarget(target, 120, SEED, 2000);
    assert.notDeepEqual(target.unmet!(r.coverage), [], `${name} counted junk as reaching its layer`);
  }
});
