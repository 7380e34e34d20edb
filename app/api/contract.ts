// The one API contract. Each domain lives in its own file under domains/; this file only
// combines them. Both transports (Electron IPC in main/, HTTP + WebSocket in app/server/) serve
// exactly this object through the dispatcher, and the renderer's client is typed from it.
import { appliances } from './domains/appliances.ts';
import { build } from './domains/build.ts';
import { host } from './domains/host.ts';
import { library } from './domains/library.ts';
import { machines } from './domains/machines.ts';
import { templates } from './domains/templates.ts';

export const contract = {
  appliances,
  build,
  templates,
  host,
  library,
  machines,
};

export type Contract = typeof contract;
