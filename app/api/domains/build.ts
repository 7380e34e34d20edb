// The build domain: build library appliances (bundled or container builder), follow a build's
// stages and log live, cancel it, read build history and artefacts, and import kernel images
// built elsewhere.
import { z } from 'zod';
import { method, stream } from '../define.ts';
import type { BuildStreamEvent } from '../../build/service.ts';
import { importImage } from '../../import/import-image.ts';

const name = z.string().min(1, 'name is required').max(63);
const buildId = z.number().int().positive();

export const build = {
  /** Which builders can run here (Docker may be missing: the reason says so). */
  builders: method(z.object({}).strict().default({}), (engine) => engine.builds.availability()),
  /** Starts a build; follow it with `events`. */
  start: method(
    z
      .object({
        name,
        builder: z.enum(['bundled', 'docker']).default('bundled'),
        noCache: z.boolean().default(false),
      })
      .strict(),
    (engine, i) => {
      const { buildId } = engine.builds.start(i.name, { builder: i.builder, noCache: i.noCache });
      return { buildId };
    },
  ),
  cancel: method(z.object({ buildId }).strict(), (engine, i) => engine.builds.cancel(i.buildId)),
  history: method(
    z.object({ name, limit: z.number().int().min(1).max(500).default(50) }).strict(),
    (engine, i) => engine.builds.history(i.name, i.limit),
  ),
  get: method(z.object({ buildId }).strict(), (engine, i) => engine.builds.get(i.buildId)),
  /** Whether the appliance's settings changed since its latest image. */
  stale: method(z.object({ name }).strict(), (engine, i) => ({ stale: engine.builds.stale(i.name) })),
  /** Builds in flight, for the task indicator. */
  running: method(z.object({}).strict().default({}), (engine) => engine.builds.runningBuilds()),
  /** A build's stages and log lines as they happen (the log so far first), then `finished`. */
  events: stream<z.ZodObject<{ buildId: typeof buildId }>, BuildStreamEvent>(
    z.object({ buildId }).strict(),
    (engine, i, emit, end) => {
      let stop = (): void => {};
      stop = engine.builds.subscribe(i.buildId, (e) => {
        emit(e);
        if (e.type === 'finished')
          queueMicrotask(() => {
            stop();
            end();
          });
      });
      return () => stop();
    },
  ),
  /** Imports a PVH or Multiboot kernel image as an appliance without a template. */
  importImage: method(
    z.object({ name, path: z.string().min(1, 'path is required') }).strict(),
    (engine, i) => {
      const r = importImage(engine.store, engine.events, engine.home, i);
      return { appliance: r.appliance, buildId: r.build.id, protocols: r.protocols, machine: r.machine };
    },
  ),
};
