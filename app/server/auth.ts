import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'kiln_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The token a request presents: ?token=, Authorization: Bearer, or the cookie set on first visit. */
export function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return cookie(req, TOKEN_COOKIE);
}

export function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const t = presentedToken(req, url);
  return t !== undefined && same(t, token);
}

/**
 * Web mode listens on loopback only, but a page on any site could still reach it through DNS
 * rebinding or a cross-site form: so the Host must be a loopback name, and a browser's Origin, when
 * sent, must be this server itself.
 */
export function sameOriginRequest(req: IncomingMessage, port: number): boolean {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (!req.headers.host || !hosts.has(req.headers.host)) return false;
  const origin = req.headers.origin;
  return origin === undefined || [...hosts].some((h) => origin === `http://${h}`);
}
