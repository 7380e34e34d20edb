// Where an image's bytes come from: kernel base, compiled code, data, embedded assets, the blob's
// metadata (tables and names the runtime instantiates from) and alignment padding.

import type { ImageBreakdown } from './types.ts';

/** The parts of a native blob (ABI.md section 5), read from its header and data table. */
export interface BlobParts {
  /** machine code, without the page padding after it */
  code: number;
  /** data segment payloads */
  data: number;
  /** header, tables, strings */
  metadata: number;
  /** zeros that page-align the code and the blob's end */
  padding: number;
}

export function blobParts(blob: Uint8Array): BlobParts {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 160) throw new Error('not a native blob: shorter than its header');
  const codeOff = v.getUint32(16, true);
  const codeLen = v.getUint32(20, true);
  const nDatas = v.getUint32(72, true);
  const datasOff = v.getUint32(76, true);
  let data = 0;
  for (let i = 0; i < nDatas; i++) data += v.getUint32(datasOff + 24 * i + 12, true);
  // Zeros before the code are the page alignment (strings end in a NUL, so this may count a
  // few bytes of them as padding); zeros at the code's end are its page padding (the code ends
  // in the shared trap tail's ud2, never in a zero byte).
  let metaEnd = codeOff;
  while (metaEnd > 0 && blob[metaEnd - 1] === 0) metaEnd--;
  let codeEnd = codeOff + codeLen;
  while (codeEnd > codeOff && blob[codeEnd - 1] === 0) codeEnd--;
  const code = codeEnd - codeOff;
  return { code, data, metadata: metaEnd - data, padding: blob.length - code - metaEnd };
}

export function breakdown(parts: {
  imageBytes: number;
  baseBytes: number;
  blob: BlobParts;
  configBytes: number;
  assetBytes: number;
}): ImageBreakdown {
  const assets = Math.min(parts.assetBytes, parts.blob.data);
  const data = parts.blob.data - assets + parts.configBytes;
  const known = parts.baseBytes + parts.blob.code + data + assets + parts.blob.metadata;
  // What is left is padding: the blob's own, and the base's end rounded up to a page.
  const padding = Math.max(0, parts.imageBytes - known);
  return {
    kernelBase: parts.baseBytes,
    code: parts.blob.code,
    data,
    assets,
    metadata: parts.blob.metadata,
    padding,
    other: parts.blob.metadata + padding,
    total: parts.imageBytes,
  };
}
