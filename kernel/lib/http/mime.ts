// Content-Type by file extension (the common web types; unknown is application/octet-stream).

export function contentTypeFor(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < slash) return 'application/octet-stream';
  const ext = path.substring(dot + 1).toLowerCase();
  if (ext == 'html' || ext == 'htm') return 'text/html; charset=utf-8';
  if (ext == 'css') return 'text/css; charset=utf-8';
  if (ext == 'js' || ext == 'mjs') return 'text/javascript; charset=utf-8';
  if (ext == 'json' || ext == 'map') return 'application/json';
  if (ext == 'txt' || ext == 'md') return 'text/plain; charset=utf-8';
  if (ext == 'xml') return 'application/xml';
  if (ext == 'csv') return 'text/csv; charset=utf-8';
  if (ext == 'svg') return 'image/svg+xml';
  if (ext == 'png') return 'image/png';
  if (ext == 'jpg' || ext == 'jpeg') return 'image/jpeg';
  if (ext == 'gif') return 'image/gif';
  if (ext == 'webp') return 'image/webp';
  if (ext == 'avif') return 'image/avif';
  if (ext == 'ico') return 'image/x-icon';
  if (ext == 'woff') return 'font/woff';
  if (ext == 'woff2') return 'font/woff2';
  if (ext == 'ttf') return 'font/ttf';
  if (ext == 'otf') return 'font/otf';
  if (ext == 'wasm') return 'application/wasm';
  if (ext == 'pdf') return 'application/pdf';
  if (ext == 'zip') return 'application/zip';
  if (ext == 'gz') return 'application/gzip';
  if (ext == 'tar') return 'application/x-tar';
  if (ext == 'mp4') return 'video/mp4';
  if (ext == 'webm') return 'video/webm';
  if (ext == 'mp3') return 'audio/mpeg';
  if (ext == 'ogg') return 'audio/ogg';
  if (ext == 'wav') return 'audio/wav';
  return 'application/octet-stream';
}
