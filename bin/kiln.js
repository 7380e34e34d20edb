#!/usr/bin/env node
// The `kiln` command. Runs the bundled engine (dist/app/cli.js) when it has been built, else the
// TypeScript sources through tsx, so a checkout works without a build step.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundled = fileURLToPath(new URL('../dist/app/cli.js', import.meta.url));
let runCli;
if (existsSync(bundled) && !process.env.KILN_FROM_SOURCE) {
  ({ runCli } = await import(pathToFileURL(bundled).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../app/cli/main.ts'));
}
process.exitCode = await runCli(process.argv.slice(2));
