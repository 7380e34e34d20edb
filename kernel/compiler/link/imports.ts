// The imports the kernel base provides (ABI.md section 1, plus AssemblyScript's env.abort) and
// the link-time check that an appliance blob needs nothing else.

import { LinkError } from './elf.ts';

/** module.name -> signature string (params ':' results; i i32, l i64, f f32, d f64). */
export const KERNEL_IMPORTS: ReadonlyMap<string, string> = new Map([
  ['kiln.console_write', 'ii:i'],
  ['kiln.clock_monotonic', ':l'],
  ['kiln.clock_wall', ':l'],
  ['kiln.yield', 'l:l'],
  ['kiln.net_count', ':i'],
  ['kiln.net_info', 'ii:i'],
  ['kiln.net_read', 'iiii:i'],
  ['kiln.net_write', 'iii:i'],
  ['kiln.block_count', ':i'],
  ['kiln.block_info', 'ii:i'],
  ['kiln.block_read', 'ilii:i'],
  ['kiln.block_write', 'ilii:i'],
  ['kiln.args_get', 'ii:i'],
  ['kiln.config_get', 'ii:i'],
  ['kiln.random_get', 'ii:i'],
  ['kiln.exit', 'i:'],
  ['env.abort', 'iiii:'],
]);

export interface BlobImport {
  kind: 'func' | 'global' | 'memory' | 'table';
  module: string;
  name: string;
  /** Signature string, for functions. */
  sig?: string;
}

function str(v: DataView, bytes: Uint8Array, off: number): string {
  const len = v.getUint32(off, true);
  return new TextDecoder().decode(bytes.subarray(off + 4, off + 4 + len));
}

/** Every import of a blob (ABI.md section 5). */
export function blobImports(blob: Uint8Array): BlobImport[] {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const out: BlobImport[] = [];
  const nTypes = v.getUint32(32, true),
    typesOff = v.getUint32(36, true);
  const sigs: string[] = [];
  for (let t = 0; t < nTypes; t++) sigs.push(str(v, blob, v.getUint32(typesOff + 4 * t, true)));
  const nImports = v.getUint32(40, true),
    importsOff = v.getUint32(44, true);
  for (let i = 0; i < nImports; i++) {
    const at = importsOff + 16 * i;
    out.push({
      kind: 'func',
      module: str(v, blob, v.getUint32(at, true)),
      name: str(v, blob, v.getUint32(at + 4, true)),
      sig: sigs[v.getUint32(at + 8, true)],
    });
  }
  const nGlobals = v.getUint32(48, true),
    globalsOff = v.getUint32(52, true);
  for (let g = 0; g < nGlobals; g++) {
    const at = globalsOff + 24 * g;
    if (v.getUint8(at + 2) === 1)
      out.push({
        kind: 'global',
        module: str(v, blob, v.getUint32(at + 4, true)),
        name: str(v, blob, v.getUint32(at + 8, true)),
      });
  }
  if (v.getUint32(80, true) & 4)
    out.push({
      kind: 'memory',
      module: str(v, blob, v.getUint32(108, true)),
      name: str(v, blob, v.getUint32(112, true)),
    });
  if (v.getUint32(92, true) & 4)
    out.push({
      kind: 'table',
      module: str(v, blob, v.getUint32(116, true)),
      name: str(v, blob, v.getUint32(120, true)),
    });
  return out;
}

/** Throws a LinkError naming every import the kernel base does not provide. */
export function checkKernelImports(blob: Uint8Array): void {
  const bad: string[] = [];
  for (const imp of blobImports(blob)) {
    const key = `${imp.module}.${imp.name}`;
    const want = imp.kind === 'func' ? KERNEL_IMPORTS.get(key) : undefined;
    if (want === undefined)
      bad.push(`${key} (${imp.kind}${imp.sig !== undefined ? ` ${imp.sig}` : ''}): unknown import`);
    else if (want !== imp.sig) bad.push(`${key}: signature ${imp.sig}, the kernel base provides ${want}`);
  }
  if (bad.length > 0)
    throw new LinkError(`the appliance imports what the kernel base does not provide: ${bad.join('; ')}`);
}
