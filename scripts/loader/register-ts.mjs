// Runs Kiln's TypeScript sources in a checkout: registers tsx, then our hook in front of it that
// loads dependencies' ES modules natively (see deps-load-hook.mjs for why). Use it as
// `node --import ./scripts/loader/register-ts.mjs`, or import it first in a worker thread.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./deps-load-hook.mjs', import.meta.url);
