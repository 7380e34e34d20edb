import { z } from 'zod';
import { method } from '../define.ts';

export const host = {
  capabilities: method(
    z
      .object({ refresh: z.boolean().default(false) })
      .strict()
      .default({ refresh: false }),
    (engine, i) => engine.hostCapabilities(i.refresh),
  ),
  info: method(z.object({}).strict().default({}), (engine) => ({
    home: engine.home,
    platform: process.platform,
    arch: process.arch,
    kilnVersion: process.env.npm_package_version ?? '0.1.0',
    node: process.version,
  })),
};
