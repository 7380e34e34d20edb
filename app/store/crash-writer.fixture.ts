// Child process for crash.test.ts: writes to the library as fast as it can, in transactions that
// each leave one invariant (an appliance always has exactly three builds), until it is killed.
import { Store } from './index.ts';

const store = Store.open(process.env.KILN_HOME!);
const tx = store.db.transaction((i: number) => {
  const a = store.appliances.create({ name: `crash-${process.pid}-${i}`, template: 'hello', config: { i } });
  for (let b = 0; b < 3; b++) {
    const build = store.builds.create(a.id, 'bundled');
    store.builds.appendLog(build.id, `build ${b} of ${a.name}\n`.repeat(50));
  }
});
process.stdout.write('writing\n');
for (let i = 0; ; i++) tx(i);
