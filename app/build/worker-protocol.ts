import type { BuildArtefact, BuildEvent, BuildFailureData, BuildRequest } from './types.ts';

export type WorkerIn = { type: 'build'; id: number; request: BuildRequest } | { type: 'cancel'; id: number };

export type WorkerOut =
  | { type: 'event'; id: number; event: BuildEvent }
  | { type: 'done'; id: number; artefact: BuildArtefact }
  | { type: 'failed'; id: number; failure: BuildFailureData };
