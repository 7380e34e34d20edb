import { z } from 'zod';
import { method } from '../define.ts';

const name = z.string().min(1, 'name is required').max(63);
const settings = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const appliances = {
  list: method(z.object({}).strict().default({}), (engine) => engine.appliances.list()),
  get: method(z.object({ name }).strict(), (engine, i) => engine.appliances.get(i.name)),
  create: method(
    z
      .object({ name, template: z.string().min(1, 'template is required'), settings: settings.default({}) })
      .strict(),
    (engine, i) => engine.appliances.create(i),
  ),
  rename: method(z.object({ name, newName: name }).strict(), (engine, i) =>
    engine.appliances.rename(i.name, i.newName),
  ),
  updateSettings: method(z.object({ name, settings }).strict(), (engine, i) =>
    engine.appliances.updateSettings(i.name, i.settings),
  ),
  remove: method(z.object({ name }).strict(), (engine, i) => {
    engine.appliances.remove(i.name);
    return { removed: i.name };
  }),
};
