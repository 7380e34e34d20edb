// What the preload script exposes to the renderer as window.kiln: the API transport and the
// native path chooser, nothing else. Plain types only, shared by main/preload.ts and renderer/src/lib/api.ts.
import type { CallResponse, StreamMessage } from '../app/api/wire.ts';

export interface KilnBridge {
  call(method: string, input: unknown): Promise<CallResponse>;
  subscribe(stream: string, input: unknown, onMessage: (m: StreamMessage) => void): () => void;
  /** opens an http(s) link in the system browser if its host is on the allowlist */
  openExternal(url: string): Promise<boolean>;
  /** the native file or folder chooser; the chosen host path, or null when cancelled */
  pickPath(request: PickRequest): Promise<string | null>;
}

/** What the renderer may ask the native chooser for (checked again in main). */
export interface PickRequest {
  kind: 'file' | 'folder';
}
