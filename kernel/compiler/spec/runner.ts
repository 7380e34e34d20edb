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
import { getWabt, resolveFloats, watToBinary } from './wat.ts';
import { parseWast, type Command, type ModuleDef } from './wast.ts';

/**
 * Assertions that cannot be expressed through wabt's binary encoder, with why. Each is counted
 * as skipped with this reason, and the property it tests is covered by a hand-written binary in
 * kernel/compiler/wasm/validate.test.ts instead.
 */
const ENCODER_LIMITS: Record<string, string> = {
  'select.wast:323': 'not encodable via wabt: it writes (select (result)) as the untyped select (see validate.test.ts)',
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
}

/** What the runner needs from a code executor (the compiler + host harness). */
export interface Executor {
  /** Runs the execution commands of a script; the runner hands it the bytes of every module. */
  readonly available: boolean;
}

type ModuleState =
  | { state: 'ok'; bytes: Uint8Array }
  | { state: 'refused'; reason: string }
  | { state: 'broken'; reason: string };

export async function runScript(path: string): Promise<FileResult> {
  const wabt = await getWabt();
  const text = readFileSync(path, 'utf8');
  const { commands, floats } = parseWast(text);
  resolveFloats(wabt, floats);

  const res: FileResult = {
    file: basename(path), passed: 0, failed: 0, skipped: 0, notRun: 0, textOnly: 0, failures: [], skips: new Map(),
  };
  const pass = (): void => { res.passed++; };
  const fail = (c: Command, detail: string): void => {
    res.failed++;
    res.failures.push({ line: c.line, command: c.type, detail });
  };
  const skip = (reason: string): void => {
    res.skipped++;
    res.skips.set(reason, (res.skips.get(reason) ?? 0) + 1);
  };

  const toBinary = (def: ModuleDef): Uint8Array => {
    if (def.source.kind === 'binary') return def.source.bytes;
    return addDataCountSection(watToBinary(wabt, def.source.text));
  };

  /** Decode + validate; the outcome as a small record. */
  const check = (bytes: Uint8Array): { ok: true } | { ok: false; error: WasmError } => {
    try {
      loadModule(bytes);
      return { ok: true };
    } catch (e) {
      if (e instanceof WasmError) return { ok: false, error: e };
      throw e;
    }
  };

  let current: ModuleState | null = null;
  const named = new Map<string, ModuleState>();
  const target = (name: string | undefined): ModuleState | null => (name ? named.get(name) ?? null : current);

  /** An execution assertion: skipped if its module was refused, otherwise not run (yet). */
  const execution = (c: Command, moduleName: string | undefined): void => {
    const t = target(moduleName);
    if (t?.state === 'refused') return skip(t.reason);
    if (t?.state === 'broken') return fail(c, `module rejected: ${t.reason}`);
    res.notRun++;
  };

  for (const c of commands) {
    switch (c.type) {
      case 'module': {
        let bytes: Uint8Array;
        try {
          bytes = toBinary(c.module);
        } catch (e) {
          current = { state: 'broken', reason: `wabt could not encode it: ${String(e)}` };
          fail(c, current.reason);
          if (c.module.name) named.set(c.module.name, current);
          break;
        }
        const r = check(bytes);
        if (r.ok) {
          current = { state: 'ok', bytes };
          pass();
        } else if (r.error.kind === 'unsupported') {
          current = { state: 'refused', reason: r.error.reason };
          skip(r.error.reason);
        } else {
          current = { state: 'broken', reason: r.error.message };
          fail(c, `valid module rejected: ${r.error.message}`);
        }
        if (c.module.name) named.set(c.module.name, current);
        break;
      }
      case 'register':
        if (c.name) named.set(c.as, named.get(c.name) ?? current!);
        break;
      case 'action':
        execution(c, c.action.module);
        break;
      case 'assert_return': case 'assert_trap': case 'assert_exhaustion':
        execution(c, c.action.module);
        break;
      case 'refused':
        skip(c.reason);
        break;
      case 'assert_malformed': case 'assert_invalid': {
        if (c.type === 'assert_malformed' && c.module.source.kind === 'quote') {
          res.textOnly++;
          break;
        }
        const limit = ENCODER_LIMITS[`${res.file}:${c.line}`];
        if (limit) {
          skip(limit);
          break;
        }
        const want = c.type === 'assert_malformed' ? 'malformed' : 'invalid';
        let bytes: Uint8Array;
        try {
          bytes = toBinary(c.module);
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
      case 'assert_unlinkable': case 'assert_trap_module': {
        // The module itself must be valid; linking/instantiating it is execution.
        let bytes: Uint8Array;
        try {
          bytes = toBinary(c.module);
        } catch (e) {
          fail(c, `wabt could not encode the module: ${String(e).split('\n')[0]}`);
          break;
        }
        const r = check(bytes);
        if (!r.ok && r.error.kind === 'unsupported') skip(r.error.reason);
        else if (!r.ok) fail(c, `valid module rejected: ${r.error.message}`);
        else res.notRun++;
        break;
      }
    }
  }
  return res;
}
