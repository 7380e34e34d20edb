// What crosses a transport (Electron IPC or HTTP + WebSocket). Shared by the server side and the
// renderer's client; plain data only.
import type { KilnErrorData } from '../errors.ts';

export type CallResponse<T = unknown> = { result: T } | { error: KilnErrorData };

/** Client -> server over a stream channel. */
export type StreamRequest =
  { type: 'subscribe'; id: string; stream: string; input: unknown } | { type: 'unsubscribe'; id: string };

/** Server -> client over a stream channel: events arrive in batches. */
export type StreamMessage =
  { type: 'events'; id: string; events: unknown[] } | { type: 'end'; id: string; error?: KilnErrorData };
