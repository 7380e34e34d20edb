// Times the benchmark kernels in V8 (run by compiler-bench.ts with --liftoff/--no-liftoff flags).
// Usage: node [v8 flags] v8-runner.mjs <kernels.wasm> <reps> <export>...
import { readFileSync } from 'node:fs';
const [file, repsText, ...names] = process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(file));
const instance = new WebAssembly.Instance(module, {
  env: {
    abort: () => {
      throw new Error('abort');
    },
  },
});
for (const name of names) {
  let best = Infinity;
  let result;
  for (let r = 0; r < Number(repsText); r++) {
    const t = process.hrtime.bigint();
    result = instance.exports[name]();
    const ns = Number(process.hrtime.bigint() - t);
    if (ns < best) best = ns;
  }
  const bits = typeof result === 'bigint' ? BigInt.asUintN(64, result) : BigInt(result >>> 0);
  console.log(`${name} ${best} ${bits.toString(16)}`);
}
