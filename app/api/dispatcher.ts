// Transport-independent serving of the contract: validates every input with its schema, runs
// the handler, and turns any failure into a structured error. Streams are batched: events that
// arrive within one flush interval (about one animation frame) travel together.
import { z } from 'zod';
import { KilnError, toErrorData, type KilnErrorData } from '../errors.ts';
import type { Engine } from '../engine.ts';
import { contract } from './contract.ts';
import type { AnyMethod, AnyStream, Domain } from './define.ts';
import type { CallResponse } from './wire.ts';

export interface StreamSink {
  events(batch: unknown[]): void;
  end(error?: KilnErrorData): void;
}

const FLUSH_MS = 16;

function lookup(name: unknown): AnyMethod | AnyStream | undefined {
  if (typeof name !== 'string') return undefined;
  const [domain, member, ...rest] = name.split('.');
  if (!domain || !member || rest.length > 0 || !Object.hasOwn(contract, domain)) return undefined;
  const d = (contract as Record<string, Domain>)[domain]!;
  return Object.hasOwn(d, member) ? d[member] : undefined;
}

function parseInput(schema: z.ZodType, raw: unknown): unknown {
  const r = schema.safeParse(raw === null ? undefined : raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `Unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}.`
      : field
        ? `Field "${field}": ${issue.message}`
        : issue.message;
  throw new KilnError(
    'invalid_input',
    message,
    field || (issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined),
  );
}

export class Dispatcher {
  constructor(private readonly engine: Engine) {}

  /** Names of every method and stream, e.g. for a transport's allowlist. */
  static names(): { methods: string[]; streams: string[] } {
    const methods: string[] = [];
    const streams: string[] = [];
    for (const [d, members] of Object.entries(contract as Record<string, Domain>)) {
      for (const [m, def] of Object.entries(members))
        (def.kind === 'method' ? methods : streams).push(`${d}.${m}`);
    }
    return { methods, streams };
  }

  async call(name: unknown, rawInput: unknown): Promise<CallResponse> {
    try {
      const def = lookup(name);
      if (!def || def.kind !== 'method')
        throw new KilnError('not_found', `Unknown API method "${String(name)}".`);
      const input = parseInput(def.input, rawInput);
      return { result: await def.run(this.engine, input) };
    } catch (err) {
      return { error: toErrorData(err) };
    }
  }

  /** Opens a stream; returns the function that cancels it. The sink's end() is called once. */
  subscribe(name: unknown, rawInput: unknown, sink: StreamSink): () => void {
    let pending: unknown[] = [];
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    let cancel: (() => void) | undefined;

    const flush = () => {
      timer = undefined;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      sink.events(batch);
    };
    const finish = (err?: unknown) => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      flush();
      sink.end(err === undefined ? undefined : toErrorData(err));
      cancel?.();
    };
    try {
      const def = lookup(name);
      if (!def || def.kind !== 'stream')
        throw new KilnError('not_found', `Unknown API stream "${String(name)}".`);
      const input = parseInput(def.input, rawInput);
      cancel = def.open(
        this.engine,
        input,
        (event) => {
          if (closed) return;
          pending.push(event);
          timer ??= setTimeout(flush, FLUSH_MS);
        },
        finish,
      );
      if (closed) cancel();
    } catch (err) {
      finish(err);
    }
    return () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      cancel?.();
    };
  }
}
