// The typed client's shape, derived from the contract: front ends import only these types.
import type { z } from 'zod';
import type { KilnErrorData } from '../errors.ts';
import type { Contract } from './contract.ts';
import type { Method, Stream } from './define.ts';

export type Unsubscribe = () => void;

export interface StreamHandlers<E> {
  events(batch: E[]): void;
  end?(error?: KilnErrorData): void;
}

type ClientMember<M> =
  M extends Method<infer I, infer O>
    ? (input: z.input<I>) => Promise<Awaited<O>>
    : M extends Stream<infer I, infer E>
      ? (input: z.input<I>, handlers: StreamHandlers<E>) => Unsubscribe
      : never;

export type ApiClient = {
  [D in keyof Contract]: { [K in keyof Contract[D]]: ClientMember<Contract[D][K]> };
};

/** Output type of a method, e.g. MethodResult<'appliances', 'list'>. */
export type MethodResult<D extends keyof Contract, K extends keyof Contract[D]> =
  Contract[D][K] extends Method<infer _I, infer O> ? Awaited<O> : never;

/** Event type of a stream. */
export type StreamEvent<D extends keyof Contract, K extends keyof Contract[D]> =
  Contract[D][K] extends Stream<infer _I, infer E> ? E : never;

type MembersOf<D extends keyof Contract, Kind> = {
  [K in keyof Contract[D]]: Contract[D][K] extends Kind ? `${D & string}.${K & string}` : never;
}[keyof Contract[D]];

/** Every stream's full name, e.g. "library.events". */
export type StreamName = { [D in keyof Contract]: MembersOf<D, { kind: 'stream' }> }[keyof Contract];
/** Every method's full name, e.g. "appliances.list". */
export type MethodName = { [D in keyof Contract]: MembersOf<D, { kind: 'method' }> }[keyof Contract];
