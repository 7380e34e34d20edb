// Imports an existing PVH or Multiboot kernel (a unikernel built elsewhere) into the library as
// an appliance without a template: the file is checked, copied by content into the data home
// (so the original may move or change), and recorded as the appliance's one succeeded "build"
// (builder "import"), which is what Run uses as its latest image.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KilnError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { Appliance, Build, Store } from '../store/index.ts';
import { checkName } from '../store/appliances.ts';
import { writeFileAtomic } from '../build/atomic.ts';
import { sha256 } from '../build/hash.ts';
import { inspectKernelImage, type BootProtocol } from './inspect.ts';

/** Larger files are refused before reading: no appliance kernel is this big. */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

export interface ImportInput {
  name: string;
  /** host path of the kernel image */
  path: string;
}

export interface ImportResult {
  appliance: Appliance;
  build: Build;
  protocols: BootProtocol[];
  machine: 'x86-64' | 'i386';
}

export function importedImagesDir(home: string): string {
  return join(home, 'images', 'imported');
}

export function importImage(
  store: Store,
  events: EventBus | null,
  home: string,
  input: ImportInput,
): ImportResult {
  checkName(input.name);
  if (!existsSync(input.path)) throw new KilnError('invalid_input', `${input.path} does not exist.`, 'path');
  const st = statSync(input.path);
  if (!st.isFile()) throw new KilnError('invalid_input', `${input.path} is not a file.`, 'path');
  if (st.size > MAX_IMPORT_BYTES)
    throw new KilnError(
      'invalid_input',
      `${basename(input.path)} is ${st.size} bytes, too big for a kernel image.`,
      'path',
    );
  const bytes = new Uint8Array(readFileSync(input.path));
  const inspection = inspectKernelImage(bytes);
  if (!inspection.ok)
    throw new KilnError(
      'invalid_input',
      `Cannot import ${basename(input.path)}: ${inspection.reason}`,
      'path',
    );
  if (store.appliances.find(input.name)) {
    throw new KilnError('conflict', `An appliance named "${input.name}" already exists.`, 'name');
  }
  const hash = sha256(bytes);
  const dest = join(importedImagesDir(home), `${hash}.elf`);
  if (!existsSync(dest)) writeFileAtomic(dest, bytes);
  const { appliance, build } = store.db.transaction(() => {
    const appliance = store.appliances.create({
      name: input.name,
      template: null,
      config: { importedFrom: input.path, boot: inspection.protocols.join(','), machine: inspection.machine },
    });
    const b = store.builds.create(appliance.id, 'import');
    store.builds.update(b.id, {
      status: 'succeeded',
      stage: null,
      finishedAt: Date.now(),
      imagePath: dest,
      imageSize: bytes.length,
      imageSha256: hash,
    });
    store.builds.appendLog(
      b.id,
      `imported ${input.path}\n${inspection.protocols.join(', ')} ${inspection.machine} ELF, ${bytes.length} bytes, sha256 ${hash}\n`,
    );
    return { appliance, build: store.builds.get(b.id)! };
  })();
  events?.emit({ type: 'appliance.created', name: appliance.name });
  events?.emit({ type: 'build.changed', name: appliance.name, buildId: build.id });
  return { appliance, build, protocols: inspection.protocols, machine: inspection.machine };
}
