// The Builder interface: the bundled builder (a worker thread in this process) and the container
// builder (the same pipeline in the pinned builder image) both implement it.

import type { BuildArtefact, BuildEvent, BuildRequest, BuilderName } from './types.ts';

export interface BuildOptions {
  onEvent?: (e: BuildEvent) => void;
  signal?: AbortSignal;
}

export type Availability = { ok: true; detail: string } | { ok: false; reason: string };

export interface Builder {
  readonly name: BuilderName;
  /** whether this builder can run here; the reason is written for the user */
  available(): Promise<Availability>;
  /** Resolves with the artefact; rejects with a BuildFailure (cancelled: true on cancellation). */
  build(request: BuildRequest, opts?: BuildOptions): Promise<BuildArtefact>;
  close(): Promise<void>;
}
