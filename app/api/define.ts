// The building blocks of the API contract. A domain file (domains/*.ts) is a record of methods
// (request -> response) and streams (subscription -> batches of events), each with the zod schema
// its input must pass before the handler ever sees it.
import type { z } from 'zod';
import type { Engine } from '../engine.ts';

export interface Method<I extends z.ZodType, O> {
  kind: 'method';
  input: I;
  run(engine: Engine, input: z.output<I>): O | Promise<O>;
}

/** Emits events as they happen; the dispatcher batches them. Returns the function that cancels. */
export interface Stream<I extends z.ZodType, E> {
  kind: 'stream';
  input: I;
  open(
    engine: Engine,
    input: z.output<I>,
    emit: (event: E) => void,
    end: (err?: unknown) => void,
  ): () => void;
}

export function method<I extends z.ZodType, O>(input: I, run: Method<I, O>['run']): Method<I, O> {
  return { kind: 'method', input, run };
}

export function stream<I extends z.ZodType, E>(input: I, open: Stream<I, E>['open']): Stream<I, E> {
  return { kind: 'stream', input, open };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: any input schema
export type AnyMethod = Method<any, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: any input schema
export type AnyStream = Stream<any, unknown>;
export type Domain = Record<string, AnyMethod | AnyStream>;
