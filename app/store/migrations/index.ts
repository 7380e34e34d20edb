import type { Database } from 'better-sqlite3';
import { appliancesAndBuilds } from './001-appliances-builds.ts';
import { runsConsoleSamples } from './002-runs-console-samples.ts';
import { machines } from './003-machines.ts';
import { buildArtefacts } from './004-build-artefacts.ts';
import { stopRequests } from './005-stop-requests.ts';

/** One schema step. `up` runs inside a transaction; `PRAGMA user_version` records the step. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

/** Ordered, append-only: never edit a released migration, add a new one. */
export const migrations: readonly Migration[] = [
  appliancesAndBuilds,
  runsConsoleSamples,
  machines,
  buildArtefacts,
  stopRequests,
];
