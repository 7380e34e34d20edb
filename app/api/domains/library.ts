import { z } from 'zod';
import { stream } from '../define.ts';
import type { LibraryEvent } from '../../events.ts';

const noInput = z.object({}).strict().default({});

export const library = {
  /** Every change to the library (appliances, builds, runs), so views refresh without polling. */
  events: stream<typeof noInput, LibraryEvent>(noInput, (engine, _i, emit) => engine.events.on(emit)),
};
