// What the preload script exposes to the renderer as window.kiln: the API transport and nothing
// else. Plain types only, shared by main/preload.ts and renderer/src/lib/api.ts.
import type { CallResponse, StreamMessage } from '../app/api/wire.ts';

export interface KilnBridge {
  call(method: string, input: unknown): Promise<CallResponse>;
  subscribe(stream: string, input: unknown, onMessage: (m: StreamMessage) => void): () => void;
  /** opens an http(s) link in the system browser if its host is on the allowlist */
  openExternal(url: string): Promise<boolean>;
}
