// Runs one .wast script against Kiln's front end (and, once an executor is given, its compiled
// code) and counts the outcome of every assertion.
//
// Counting (see README.md in this directory for the reasoning):
// - passed / failed: an assertion we checked, with our own code.
// - skipped: the assertion needs a feature Kiln refuses (our validator said "unsupported", or
//   the script passes values of a refused type); every skip carries its reason.
// - notRun: execution assertions while no executor exists; never counted as passed or skipped.
// - textOnly: assert_malformed on `(module quote ...)`: malformed TEXT, which only a text parser
//   can reject; Kiln has no text parser (wabt's is used to read the scripts), so these test
//   nothing of ours and stay out of the totals.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadModule } from '../wasm/index.ts';
import { WasmError } from '../wasm/types.ts';
import { addDataCountSection } from './datacount.ts';
import { InstancePool, describeExpected, matches, trapCodesFor, type Instance } from './exec.ts';
import { getWabt, resolveFloats, watToBinary } from './wat.ts';
import { parseWast, type Action, type Command, type ModuleDef } from './wast.ts';
import type { Outcome } from '../harness/client.ts';

/**
 * Modules wabt cannot encode as the script writes them, given as the binary the script means.
 * select.wast:323: wabt writes `(select (result) ...)` as the untyped select (0x1b); the test is
 * about the typed select (0x1c) with an empty result list.
 */
const HAND_ENCODED: Record<string, Uint8Array> = {
  'select.wast:323': Buffer.from(
    [
      '0061736d01000000', // magic, version
      '010401600000', // type section: () -> ()
      '03020100', // function section: one function of type 0
      '0a0a01080001014101', // code section: one body, no locals, nop nop i32.const 1
      '1c000b', // select (result) end
    ].join(''),
    'hex',
  ),
};

export interface Failure {
  line: number;
  command: string;
  detail: string;
}

export interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  notRun: number;
  textOnly: number;
  failures: Failure[];
  /** reason -> count */
  skips: Map<string, number>;
  /** command kind (module, assert_return, assert_invalid, ...) -> skipped count */
  skipsByCommand: Map<string, number>;
}

export interface RunOptions {
  /** Compile and run the execution assertions in the harness (default true). */
  execute?: boolean;
}

type ModuleState =
  | { state: 'ok'; bytes: Uint8Array; instance: Instance | null }
  | { state: 'refused'; reason: string }
  | { state: 'broken'; reason: string };

export async function runScript(path: string, opts: RunOptions = {}): Promise<FileResult> {
  const execute = opts.execute ?? true;
  const pool = new InstancePool();
  try {
    return await runCommands(path, execute, pool);
  } finally {
    pool.close();
  }
}

function outcomeText(o: Outcome): string {
  switch (o.kind) {
    case 'ok':
      return `returned ${o.values.map((v) => `0x${v.toString(16)}`).join(' ') || 'nothing'}`;
    case 'trap':
      return `trapped: ${o.message}`;
    case 'error':
      return `error: ${o.message}`;
    case 'crash':
      return `CRASH: ${o.message}`;
  }
}

async function runCommands(path: string, execute: boolean, pool: InstancePool): Promise<FileResult> {
  const wabt = await getWabt();
  const text = readFileSync(path, 'utf8');
  const { commands, floats } = parseWast(text);
  resolveFloats(wabt, floats);

  const res: FileResult = {
    file: basename(path),
    passed: 0,
    failed: 0,
    skipped: 0,
    notRun: 0,
    textOnly: 0,
    failures: [],
    skips: new Map(),
    skipsByCommand: new Map(),
  };
  let commandKind = '';
  const pass = (): void => {
    res.passed++;
  };
  const fail = (c: Command, detail: string): void => {
    res.failed++;
    res.failures.push({ line: c.line, command: c.type, detail });
  };
  const skip = (reason: string): void => {
    res.skipped++;
    res.skips.set(reason, (res.skips.get(reason) ?? 0) + 1);
    res.skipsByCommand.set(commandKind, (res.skipsByCommand.get(commandKind) ?? 0) + 1);
  };

  const toBinary = (def: ModuleDef): Uint8Array => {
    if (def.source.kind === 'binary') return def.source.bytes;
    return addDataCountSection(watToBinary(wabt, def.source.text));
  };

  /** Decode + validate; the outcome as a small record. */
  const check = (
    bytes: Uint8Array,
  ): { ok: true; refusedImport: string | null } | { ok: false; error: WasmError } => {
    try {
      const { module } = loadModule(bytes);
      // Importing from a registered module Kiln refused (SIMD, reference types, ...) needs that
      // feature too: skipped with its reason.
      let refusedImport: string | null = null;
      for (const i of module.imports) {
        const s = named.get(i.module);
        if (s?.state === 'refused') refusedImport ??= s.reason;
      }
      return { ok: true, refusedImport };
    } catch (e) {
      if (e instanceof WasmError) return { ok: false, error: e };
      throw e;
    }
  };

  let current: ModuleState | null = null;
  const named = new Map<string, ModuleState>();
  const target = (name: string | undefined): ModuleState | null =>
    name ? (named.get(name) ?? null) : current;

  /** The instance an action runs on, or why it cannot run (then counted: skipped/failed/notRun). */
  const instanceFor = (c: Command, moduleName: string | undefined): Instance | null => {
    const t = target(moduleName);
    if (t === null) {
      fail(c, 'no module');
      return null;
    }
    if (t.state === 'refused') {
      skip(t.reason);
      return null;
    }
    if (t.state === 'broken') {
      fail(c, `module unusable: ${t.reason}`);
      return null;
    }
    if (!execute) {
      res.notRun++;
      return null;
    }
    if (!t.instance) {
      fail(c, 'module not instantiated');
      return null;
    }
    return t.instance;
  };
  const perform = (inst: Instance, a: Action): Promise<Outcome> =>
    a.type === 'invoke'
      ? pool.invoke(
          inst,
          a.field,
          a.args.map((v) => v.bits),
        )
      : pool.get(inst, a.field);

  /** Compiles and instantiates a validated module; the outcome of loading it. */
  const instantiate = async (bytes: Uint8Array): Promise<{ instance: Instance | null; outcome: Outcome }> => {
    try {
      return await pool.instantiate(bytes);
    } catch (e) {
      return {
        instance: null,
        outcome: { kind: 'error', message: `compile error: ${String(e).split('\n')[0]}` },
      };
    }
  };

  for (const c of commands) {
    commandKind = c.type === 'refused' ? c.assertion : c.type === 'action' ? c.action.type : c.type;
    switch (c.type) {
      case 'module': {
        let bytes: Uint8Array;
        try {
          bytes = toBinary(c.module);
        } catch (e) {
          current = { state: 'broken', reason: `wabt could not encode it: ${String(e).split('\n')[0]}` };
          fail(c, current.reason);
          if (c.module.name) named.set(c.module.name, current);
          break;
        }
        const r = check(bytes);
        if (!r.ok && r.error.kind === 'unsupported') {
          current = { state: 'refused', reason: r.error.reason };
          skip(r.error.reason);
        } else if (r.ok && r.refusedImport) {
          current = { state: 'refused', reason: r.refusedImport };
          skip(r.refusedImport);
        } else if (!r.ok) {
          current = { state: 'broken', reason: r.error.message };
          fail(c, `valid module rejected: ${r.error.message}`);
        } else if (!execute) {
          current = { state: 'ok', bytes, instance: null };
          pass();
        } else {
          const { instance, outcome } = await instantiate(bytes);
          if (instance && outcome.kind === 'ok') {
            current = { state: 'ok', bytes, instance };
            pass();
          } else {
            current = { state: 'broken', reason: `instantiation ${outcomeText(outcome)}` };
            fail(c, current.reason);
          }
        }
        if (c.module.name) named.set(c.module.name, current);
        break;
      }
      case 'register': {
        const s = (c.name ? named.get(c.name) : current) ?? {
          state: 'broken',
          reason: 'nothing to register',
        };
        named.set(c.as, s);
        if (s.state === 'ok' && s.instance) {
          const o = await pool.register(s.instance, c.as);
          if (o.kind !== 'ok') fail(c, `register ${c.as}: ${outcomeText(o)}`);
        }
        break;
      }
      case 'refused':
        skip(c.reason);
        break;
      case 'action': {
        const inst = instanceFor(c, c.action.module);
        if (!inst) break;
        const o = await perform(inst, c.action);
        if (o.kind === 'ok') pass();
        else fail(c, `${c.action.field}: ${outcomeText(o)}`);
        break;
      }
      case 'assert_return': {
        const inst = instanceFor(c, c.action.module);
        if (!inst) break;
        const o = await perform(inst, c.action);
        const ok =
          o.kind === 'ok' &&
          o.values.length === c.expected.length &&
          c.expected.every((e, i) => matches(e, o.values[i]));
        if (ok) pass();
        else
          fail(
            c,
            `${c.action.field}: expected ${c.expected.map(describeExpected).join(' ') || 'nothing'}, ${outcomeText(o)}`,
          );
        break;
      }
      case 'assert_trap':
      case 'assert_exhaustion': {
        const inst = instanceFor(c, c.action.module);
        if (!inst) break;
        const o = await perform(inst, c.action);
        if (o.kind === 'trap' && trapCodesFor(c.message).includes(o.code)) pass();
        else fail(c, `${c.action.field}: expected trap "${c.message}", ${outcomeText(o)}`);
        break;
      }
      case 'assert_malformed':
      case 'assert_invalid': {
        if (c.type === 'assert_malformed' && c.module.source.kind === 'quote') {
          res.textOnly++;
          break;
        }
        const want = c.type === 'assert_malformed' ? 'malformed' : 'invalid';
        let bytes: Uint8Array;
        try {
          bytes = HAND_ENCODED[`${res.file}:${c.line}`] ?? toBinary(c.module);
        } catch (e) {
          fail(c, `wabt could not encode the module: ${String(e).split('\n')[0]}`);
          break;
        }
        const r = check(bytes);
        if (r.ok) fail(c, `accepted, expected ${want} "${c.message}"`);
        else if (r.error.kind === 'unsupported') skip(r.error.reason);
        else if (r.error.kind !== want || !r.error.reason.startsWith(c.message)) {
          fail(c, `expected ${want} "${c.message}", got ${r.error.kind}: ${r.error.message}`);
        } else pass();
        break;
      }
      case 'assert_unlinkable':
      case 'assert_trap_module': {
        // The module itself must be valid; then linking (unlinkable) or the start function /
        // segment initialisation (trap) must fail.
        let bytes: Uint8Array;
        try {
          bytes = toBinary(c.module);
        } catch (e) {
          fail(c, `wabt could not encode the module: ${String(e).split('\n')[0]}`);
          break;
        }
        const r = check(bytes);
        if (!r.ok && r.error.kind === 'unsupported') {
          skip(r.error.reason);
          break;
        }
        if (!r.ok) {
          fail(c, `valid module rejected: ${r.error.message}`);
          break;
        }
        if (!execute) {
          res.notRun++;
          break;
        }
        if (r.refusedImport) {
          skip(r.refusedImport);
          break;
        }
        const { outcome } = await instantiate(bytes);
        const ok =
          c.type === 'assert_unlinkable'
            ? outcome.kind === 'error' && outcome.message.includes(c.message)
            : outcome.kind === 'trap' && trapCodesFor(c.message).includes(outcome.code);
        if (ok) pass();
        else
          fail(
            c,
            `expected ${c.type === 'assert_unlinkable' ? 'link error' : 'trap'} "${c.message}", ${outcomeText(outcome)}`,
          );
        break;
      }
    }
  }
  return res;
}
