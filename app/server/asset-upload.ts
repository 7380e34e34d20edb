// POST /api/assets: web mode's file and folder pickers upload here (the browser cannot hand the
// engine a host path). The web server's token and Host/Origin checks run before this route.
// Body: JSON {kind: "file" | "folder", files: [{path, base64}]}; answer: the stored asset
// (app/build/asset-store.ts), whose `path` the form puts in the asset setting.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ASSET_LIMITS, type AssetStore, type UploadedFile } from '../build/asset-store.ts';
import { KilnError } from '../errors.ts';

/** The largest body that can hold an upload within the limits (base64 is 4/3 of the bytes). */
export const MAX_UPLOAD_BODY =
  Math.ceil((ASSET_LIMITS.bytes * 4) / 3) + ASSET_LIMITS.files * (ASSET_LIMITS.pathChars + 64) + 4096;

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, message: string, field?: string): void {
  reply(res, status, { error: { code: 'invalid_input', message, field } });
}

const tooLarge = (limit: number): string =>
  `The upload is larger than ${limit} bytes; assets are limited to ${ASSET_LIMITS.bytes} bytes (16 MiB).`;

/** Reads the body up to `limit` bytes; null (after answering 413) when it is larger. */
function readLimited(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      over = true;
      req.off('data', onData);
      fail(res, 413, tooLarge(limit));
      // Discard the rest (an authenticated client on loopback) so it reads the answer rather
      // than a reset.
      chunks.length = 0;
      req.resume();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!over) reject(err);
    });
  });
}

function parseUpload(text: string): { kind: 'file' | 'folder'; files: UploadedFile[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new KilnError('invalid_input', `The upload is not JSON: ${String(err)}`);
  }
  const b = body as { kind?: unknown; files?: unknown };
  if (b === null || typeof b !== 'object' || (b.kind !== 'file' && b.kind !== 'folder'))
    throw new KilnError('invalid_input', 'The upload needs kind "file" or "folder".', 'kind');
  if (!Array.isArray(b.files))
    throw new KilnError('invalid_input', 'The upload needs a files list.', 'files');
  const files = b.files.map((f: unknown, i): UploadedFile => {
    const { path, base64 } = (f ?? {}) as { path?: unknown; base64?: unknown };
    if (typeof path !== 'string' || typeof base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
      throw new KilnError('invalid_input', `File ${i + 1} needs a path and base64 content.`, 'files');
    return { path, data: new Uint8Array(Buffer.from(base64, 'base64')) };
  });
  return { kind: b.kind, files };
}

export async function handleAssetUpload(
  req: IncomingMessage,
  res: ServerResponse,
  store: AssetStore,
): Promise<void> {
  if (req.method !== 'POST') return fail(res, 405, 'Use POST for /api/assets.');
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    return fail(res, 415, 'Send the upload as application/json.');
  if (Number(req.headers['content-length'] ?? 0) > MAX_UPLOAD_BODY) {
    res.setHeader('connection', 'close');
    res.on('finish', () => req.destroy());
    return fail(res, 413, tooLarge(MAX_UPLOAD_BODY));
  }
  const body = await readLimited(req, res, MAX_UPLOAD_BODY);
  if (body === null) return;
  try {
    const { kind, files } = parseUpload(body.toString('utf8'));
    reply(res, 200, { result: store.store(kind, files) });
  } catch (err) {
    if (err instanceof KilnError) return fail(res, 400, err.message, err.field);
    throw err;
  }
}
