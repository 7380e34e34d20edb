// Checks on everything that arrives from the renderer over IPC, before it reaches the engine.
// The dispatcher validates each input against its schema; these checks guard the envelope.
import type { OpenDialogOptions } from 'electron';
import { Dispatcher } from '../app/api/dispatcher.ts';
import type { PickRequest } from './bridge-types.ts';

const { methods, streams } = Dispatcher.names();
const METHODS = new Set(methods);
const STREAMS = new Set(streams);

export function checkMethod(name: unknown): string {
  if (typeof name !== 'string' || !METHODS.has(name)) throw new Error(`Unknown API method ${String(name)}`);
  return name;
}

export function checkStream(name: unknown): string {
  if (typeof name !== 'string' || !STREAMS.has(name)) throw new Error(`Unknown API stream ${String(name)}`);
  return name;
}

export function checkSubscriptionId(id: unknown): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error('Invalid subscription id');
  return id;
}

/** Links that may open in the system browser: the project's own pages and the appliances' ports. */
export function externalAllowed(raw: unknown): URL | undefined {
  if (typeof raw !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const docs = ['github.com', 'qemu.org', 'www.qemu.org', 'xenproject.org'].includes(url.hostname);
  return loopback || docs ? url : undefined;
}

/** A path-chooser request: exactly {kind: 'file' | 'folder'}, nothing else. */
export function checkPickRequest(raw: unknown): PickRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('Invalid path request');
  const keys = Object.keys(raw);
  const kind = (raw as { kind?: unknown }).kind;
  if (keys.length !== 1 || keys[0] !== 'kind' || (kind !== 'file' && kind !== 'folder'))
    throw new Error('Invalid path request: expected {kind: "file" | "folder"}');
  return { kind };
}

/** The native dialog for a request: one existing file, or one folder. */
export function pickDialogOptions(request: PickRequest): OpenDialogOptions {
  return request.kind === 'file'
    ? { title: 'Choose a file to embed', properties: ['openFile', 'dontAddToRecent'] }
    : { title: 'Choose a folder to embed', properties: ['openDirectory', 'dontAddToRecent'] };
}
