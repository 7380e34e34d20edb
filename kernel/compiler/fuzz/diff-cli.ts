// Runs differential() on one module file and prints the result as JSON (the fuzzer runs this in
// a child process, so a module that hangs one of the engines cannot stall the fuzzer).
import { readFileSync } from 'node:fs';
import { differential } from './differential.ts';

const r = differential(new Uint8Array(readFileSync(process.argv[2]!)));
process.stdout.write(JSON.stringify(r));
