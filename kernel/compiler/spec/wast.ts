// The .wast splitter: turns a spec script into typed commands. Modules in text form are kept
// as text (compiled to binary per module with wabt's parseWat, see wat.ts); binary modules are
// decoded from their string literals; constants become raw bit patterns.

import { parseSExprs, type SList, type SNode } from './sexpr.ts';

export type NumType = 'i32' | 'i64' | 'f32' | 'f64';

/** A number as its raw bits (unsigned), like the harness passes it. */
export interface Value {
  type: NumType;
  bits: bigint;
}

export type Expected =
  | { kind: 'value'; value: Value }
  | { kind: 'nan'; type: 'f32' | 'f64'; nan: 'canonical' | 'arithmetic' }
  | { kind: 'either'; options: Expected[] };

export type ModuleSource =
  { kind: 'text'; text: string } | { kind: 'quote'; text: string } | { kind: 'binary'; bytes: Uint8Array };

export interface ModuleDef {
  name: string | undefined;
  source: ModuleSource;
}

export type Action =
  | { type: 'invoke'; module: string | undefined; field: string; args: Value[] }
  | { type: 'get'; module: string | undefined; field: string };

export type Command = { line: number } & (
  | { type: 'module'; module: ModuleDef }
  | { type: 'register'; as: string; name: string | undefined }
  | { type: 'action'; action: Action }
  | { type: 'assert_return'; action: Action; expected: Expected[] }
  | { type: 'assert_trap'; action: Action; message: string }
  | { type: 'assert_trap_module'; module: ModuleDef; message: string }
  | { type: 'assert_exhaustion'; action: Action; message: string }
  | { type: 'assert_malformed'; module: ModuleDef; message: string }
  | { type: 'assert_invalid'; module: ModuleDef; message: string }
  | { type: 'assert_unlinkable'; module: ModuleDef; message: string }
  /** A command using values of a refused feature (references, v128): skipped with the reason. */
  | { type: 'refused'; assertion: string; reason: string }
);

/** A float literal still to be converted to bits (by wabt: the text format's rounding rules). */
export interface FloatLiteral {
  type: 'f32' | 'f64';
  text: string;
  /** Its bits are filled in by resolveFloats (wat.ts); commands share this object. */
  value: Value;
}

export interface ParsedScript {
  commands: Command[];
  floats: FloatLiteral[];
}

class Refused extends Error {}

export function parseWast(text: string): ParsedScript {
  const floats: FloatLiteral[] = [];
  const commands: Command[] = [];
  const atom = (n: SNode | undefined): string | undefined => (n?.kind === 'atom' ? n.text : undefined);
  const str = (n: SNode | undefined): string => {
    if (n?.kind !== 'string') throw new Error(`expected a string at line ${n?.line}`);
    return Buffer.from(n.bytes).toString('utf8');
  };

  const moduleDef = (l: SList): ModuleDef => {
    let k = 1;
    let name: string | undefined;
    const first = atom(l.items[1]);
    if (first?.startsWith('$')) {
      name = first;
      k = 2;
    }
    const mode = atom(l.items[k]);
    if (mode === 'binary' || mode === 'quote') {
      const parts = l.items.slice(k + 1);
      if (mode === 'binary') {
        const chunks = parts.map((p) => (p.kind === 'string' ? p.bytes : new Uint8Array()));
        return { name, source: { kind: 'binary', bytes: Buffer.concat(chunks) } };
      }
      return { name, source: { kind: 'quote', text: `(module ${parts.map((p) => str(p)).join(' ')})` } };
    }
    // Text module: drop the name (wabt would keep it harmlessly, but the text is all it needs).
    return { name, source: { kind: 'text', text: text.slice(l.start, l.end) } };
  };

  const value = (n: SNode | undefined): Value => {
    if (n?.kind !== 'list') throw new Error(`expected a constant at line ${n?.line}`);
    const op = atom(n.items[0]);
    const lit = atom(n.items[1]) ?? '';
    switch (op) {
      case 'i32.const':
        return { type: 'i32', bits: parseInt32or64(lit, 32) };
      case 'i64.const':
        return { type: 'i64', bits: parseInt32or64(lit, 64) };
      case 'f32.const':
      case 'f64.const': {
        const type = op.slice(0, 3) as 'f32' | 'f64';
        const f: FloatLiteral = { type, text: lit, value: { type, bits: 0n } };
        floats.push(f);
        return f.value;
      }
      default:
        if (op?.startsWith('v128')) throw new Refused('SIMD (v128 values)');
        throw new Refused(`reference types (${op} values)`);
    }
  };

  const expected = (n: SNode): Expected => {
    if (n.kind === 'list') {
      const op = atom(n.items[0]);
      const lit = atom(n.items[1]);
      if (op === 'either') return { kind: 'either', options: n.items.slice(1).map(expected) };
      if (
        (op === 'f32.const' || op === 'f64.const') &&
        (lit === 'nan:canonical' || lit === 'nan:arithmetic')
      ) {
        return {
          kind: 'nan',
          type: op.slice(0, 3) as 'f32' | 'f64',
          nan: lit === 'nan:canonical' ? 'canonical' : 'arithmetic',
        };
      }
    }
    return { kind: 'value', value: value(n) };
  };

  const action = (n: SNode | undefined): Action => {
    if (n?.kind !== 'list') throw new Error('expected an action');
    const kind = atom(n.items[0]);
    let k = 1;
    let module: string | undefined;
    const m = atom(n.items[1]);
    if (m?.startsWith('$')) {
      module = m;
      k = 2;
    }
    const field = str(n.items[k]);
    if (kind === 'get') return { type: 'get', module, field };
    if (kind !== 'invoke') throw new Error(`unknown action ${kind}`);
    return { type: 'invoke', module, field, args: n.items.slice(k + 1).map(value) };
  };

  const FIELDS = new Set([
    'type',
    'import',
    'func',
    'table',
    'memory',
    'global',
    'export',
    'start',
    'elem',
    'data',
  ]);
  const lists = parseSExprs(text);
  for (let li = 0; li < lists.length; li++) {
    const l = lists[li]!;
    const head = atom(l.items[0]);
    if (head && FIELDS.has(head)) {
      // An inline module: a script made of module fields is one module.
      let last = li;
      while (last + 1 < lists.length && FIELDS.has(atom(lists[last + 1]!.items[0]) ?? '')) last++;
      const body = text.slice(l.start, lists[last]!.end);
      commands.push({
        line: l.line,
        type: 'module',
        module: { name: undefined, source: { kind: 'text', text: `(module ${body})` } },
      });
      li = last;
      continue;
    }
    const line = l.line;
    const lastString = (): string => str(l.items[l.items.length - 1]);
    try {
      switch (head) {
        case 'module':
          commands.push({ line, type: 'module', module: moduleDef(l) });
          break;
        case 'register': {
          const name = atom(l.items[2]);
          commands.push({ line, type: 'register', as: str(l.items[1]), name });
          break;
        }
        case 'invoke':
        case 'get':
          commands.push({ line, type: 'action', action: action(l) });
          break;
        case 'assert_return': {
          const a = action(l.items[1]);
          commands.push({ line, type: 'assert_return', action: a, expected: l.items.slice(2).map(expected) });
          break;
        }
        case 'assert_trap': {
          const target = l.items[1] as SList;
          if (atom(target.items[0]) === 'module') {
            commands.push({
              line,
              type: 'assert_trap_module',
              module: moduleDef(target),
              message: lastString(),
            });
          } else commands.push({ line, type: 'assert_trap', action: action(target), message: lastString() });
          break;
        }
        case 'assert_exhaustion':
          commands.push({
            line,
            type: 'assert_exhaustion',
            action: action(l.items[1]),
            message: lastString(),
          });
          break;
        case 'assert_malformed':
        case 'assert_invalid':
        case 'assert_unlinkable':
          commands.push({ line, type: head, module: moduleDef(l.items[1] as SList), message: lastString() });
          break;
        default:
          throw new Error(`unknown command ${head} at line ${line}`);
      }
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      commands.push({ line, type: 'refused', assertion: head ?? '?', reason: e.message });
    }
  }
  return { commands, floats };
}

/** Parses an integer literal of the text format into its unsigned bit pattern. */
export function parseInt32or64(lit: string, width: 32 | 64): bigint {
  let s = lit.replace(/_/g, '');
  let neg = false;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  let v = BigInt(s);
  if (neg) v = -v;
  return BigInt.asUintN(width, v);
}
