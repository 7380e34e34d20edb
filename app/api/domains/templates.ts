import { z } from 'zod';
import { method } from '../define.ts';
import type { Template } from '../../templates/registry.ts';

/** What front ends see of a template (no host paths). */
function summary(t: Template) {
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    networked: t.networked,
    settings: t.settings,
  };
}

export const templates = {
  list: method(z.object({}).strict().default({}), (engine) => engine.templates.list().map(summary)),
  get: method(z.object({ name: z.string() }).strict(), (engine, i) => summary(engine.templates.get(i.name))),
};
