import { join } from 'node:path';
import { ApplianceRepo } from './appliances.ts';
import { BuildRepo } from './builds.ts';
import { openDatabase, type Db } from './db.ts';
import { recoverOrphans, type RecoveryReport } from './recovery.ts';

export type { Appliance } from './appliances.ts';
export type { Build, BuildStatus } from './builds.ts';
export type { Db } from './db.ts';

/** The appliance library: one SQLite database under the data home, and its repositories. */
export class Store {
  readonly appliances: ApplianceRepo;
  readonly builds: BuildRepo;
  readonly recovered: RecoveryReport;

  constructor(readonly db: Db) {
    this.appliances = new ApplianceRepo(db);
    this.builds = new BuildRepo(db);
    this.recovered = recoverOrphans(db);
  }

  static open(home: string): Store {
    return new Store(openDatabase(join(home, 'library.db')));
  }

  close(): void {
    this.db.close();
  }
}
