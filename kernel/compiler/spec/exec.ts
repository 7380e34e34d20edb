// Execution side of the spec runner: compiles modules with Kiln's compiler and runs them in
// CODEGEN's Linux harness (kernel/compiler/harness), all instances of a script in one process.
// Also the comparison rules of the spec's script semantics (NaN patterns, trap messages).

import { compileWasm } from '../index.ts';
import { HarnessClient, type Outcome } from '../harness/client.ts';
import type { Expected, Value } from './wast.ts';

export interface Instance {
  client: HarnessClient;
  /** The harness's id of the instance; the client may have restarted since (then it is gone). */
  id: bigint;
  generation: number;
}

/**
 * All instances of one script live in one harness process, so that modules can import from
 * each other (`register`): functions, memories, tables and globals are linked for real.
 */
export class InstancePool {
  private readonly client: HarnessClient;
  private current: Instance | null = null;
  private generation = 0;

  constructor(timeoutMs = 10000) {
    this.client = new HarnessClient(timeoutMs);
  }

  /** Compiles and instantiates; returns the instance, or the harness outcome if it did not load. */
  async instantiate(bytes: Uint8Array): Promise<{ instance: Instance | null; outcome: Outcome }> {
    const { blob } = compileWasm(bytes);
    if (!this.client.alive) this.generation++;
    const outcome = await this.client.load(blob);
    if (outcome.kind !== 'ok') {
      this.current = null;
      return { instance: null, outcome };
    }
    const instance = { client: this.client, id: outcome.values[0] ?? 0n, generation: this.generation };
    this.current = instance;
    return { instance, outcome: { kind: 'ok', values: [] } };
  }

  /** Selects the instance in the harness; an error outcome if its process has been lost. */
  async select(inst: Instance): Promise<Outcome> {
    if (!this.client.alive || inst.generation !== this.generation)
      return { kind: 'crash', message: 'instance lost: its harness process was restarted' };
    if (this.current === inst) return { kind: 'ok', values: [] };
    const o = await this.client.use(inst.id);
    if (o.kind === 'ok') this.current = inst;
    return o;
  }

  /** Makes the instance's exports importable under `name`. */
  async register(inst: Instance, name: string): Promise<Outcome> {
    const o = await this.select(inst);
    return o.kind === 'ok' ? this.client.register(name) : o;
  }

  async invoke(inst: Instance, field: string, args: readonly bigint[]): Promise<Outcome> {
    const o = await this.select(inst);
    return o.kind === 'ok' ? inst.client.invoke(field, args) : o;
  }

  async get(inst: Instance, field: string): Promise<Outcome> {
    const o = await this.select(inst);
    return o.kind === 'ok' ? inst.client.get(field) : o;
  }

  close(): void {
    this.client.close();
  }
}

const WIDTH = { i32: 32, i64: 64, f32: 32, f64: 64 } as const;

/** Does the returned raw value match the expectation? */
export function matches(exp: Expected, got: bigint | undefined): boolean {
  if (got === undefined) return false;
  switch (exp.kind) {
    case 'either':
      return exp.options.some((o) => matches(o, got));
    case 'nan': {
      if (exp.type === 'f32') {
        const b = got & 0xffffffffn;
        return exp.nan === 'canonical'
          ? (b & 0x7fffffffn) === 0x7fc00000n
          : (b & 0x7fc00000n) === 0x7fc00000n;
      }
      const b = got & 0xffffffffffffffffn;
      return exp.nan === 'canonical'
        ? (b & 0x7fffffffffffffffn) === 0x7ff8000000000000n
        : (b & 0x7ff8000000000000n) === 0x7ff8000000000000n;
    }
    case 'value':
      return (
        BigInt.asUintN(WIDTH[exp.value.type], got) === BigInt.asUintN(WIDTH[exp.value.type], exp.value.bits)
      );
  }
}

export function describeExpected(e: Expected): string {
  switch (e.kind) {
    case 'either':
      return `either(${e.options.map(describeExpected).join(', ')})`;
    case 'nan':
      return `${e.type} nan:${e.nan}`;
    case 'value':
      return describeValue(e.value);
  }
}

export function describeValue(v: Value): string {
  return `${v.type}:0x${BigInt.asUintN(WIDTH[v.type], v.bits).toString(16)}`;
}

/**
 * The harness trap codes (kernel/runtime/kiln_runtime.h) that satisfy a spec trap message.
 * The spec distinguishes an out-of-range table index ("undefined element"), a null entry
 * ("uninitialized element") and an element segment that does not fit its table at
 * instantiation ("out of bounds table access"); Kiln's trap set (the list) has one trap
 * for a null or out-of-range table entry, so all three messages accept that one code.
 */
export function trapCodesFor(message: string): number[] {
  const table: [string, number][] = [
    ['unreachable', 1],
    ['out of bounds memory access', 2],
    ['integer divide by zero', 3],
    ['integer overflow', 4],
    ['invalid conversion to integer', 5],
    ['indirect call type mismatch', 6],
    ['undefined element', 7],
    ['uninitialized element', 7],
    ['out of bounds table access', 7],
    ['call stack exhausted', 8],
  ];
  return table.filter(([m]) => message.startsWith(m) || m.startsWith(message)).map(([, c]) => c);
}
