// Asset settings name a file or folder on the engine's host. How the user chooses one depends on
// the transport: in the desktop app the native chooser returns a host path (window.kiln.pickPath);
// in web mode the browser cannot give a path, so the chosen files are uploaded to the engine
// (POST /api/assets), which stores them in the library and answers the path to use.
import type { StoredAsset } from '../../../app/build/asset-store.ts';
import type { KilnBridge } from '../../../main/bridge-types.ts';

export type AssetKind = 'file' | 'folder';

export type AssetPicker =
  | { mode: 'native'; pick(kind: AssetKind): Promise<string | null> }
  | { mode: 'upload'; upload(kind: AssetKind, files: File[]): Promise<StoredAsset> };

function base64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** A picked folder's files carry "<folder>/<path>": the folder's own name is not part of the asset. */
export function relativeUploadPath(kind: AssetKind, file: File): string {
  if (kind === 'file') return file.name;
  const rel = file.webkitRelativePath || file.name;
  const slash = rel.indexOf('/');
  return slash >= 0 ? rel.slice(slash + 1) : rel;
}

async function upload(kind: AssetKind, files: File[]): Promise<StoredAsset> {
  const body = {
    kind,
    files: await Promise.all(
      files.map(async (f) => ({
        path: relativeUploadPath(kind, f),
        base64: base64(new Uint8Array(await f.arrayBuffer())),
      })),
    ),
  };
  const res = await fetch('/api/assets', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let reply: { result?: StoredAsset; error?: { message: string } };
  try {
    reply = JSON.parse(text) as typeof reply;
  } catch {
    throw new Error(text || res.statusText);
  }
  if (!reply.result) throw new Error(reply.error?.message ?? `Upload failed (${res.status}).`);
  return reply.result;
}

export function assetPicker(bridge: KilnBridge | undefined): AssetPicker {
  if (bridge) return { mode: 'native', pick: (kind) => bridge.pickPath({ kind }) };
  return { mode: 'upload', upload };
}
