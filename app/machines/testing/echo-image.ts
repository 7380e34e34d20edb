// The echo template appliance (UDP and TCP echo), built once with the bundled builder. The build
// cache lives in a fixed temporary folder, so test files and repeated runs reuse the image while
// its inputs (templates, library OS, compiler, kernel base) are unchanged: the cache key covers
// them all.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundledBuilder } from '../../build/bundled-builder.ts';
import { request } from '../../build/testing.ts';
import { ensureKernelBuilt } from '../../../kernel/base/test/qemu-run.ts';

let pending: Promise<string> | null = null;

/** Path of a built echo image (port 7, TCP and UDP). */
export function echoImage(): Promise<string> {
  pending ??= (async () => {
    ensureKernelBuilt();
    const builder = new BundledBuilder();
    try {
      const artefact = await builder.build(request(join(tmpdir(), 'kiln-test-echo-cache'), 'echo'), {
        onEvent: () => undefined,
      });
      return artefact.path;
    } finally {
      await builder.close();
    }
  })();
  return pending;
}
