// A small S-expression reader for .wast scripts: lists, atoms and string literals (decoded to
// bytes), with `;;` line comments and nested `(; ;)` block comments. Every node keeps its source
// span so a module's text can be handed to wabt's parser unchanged.

export type SNode = SList | SAtom | SString;

export interface SList {
  kind: 'list';
  items: SNode[];
  start: number;
  end: number; // exclusive
  line: number;
}

export interface SAtom {
  kind: 'atom';
  text: string;
  start: number;
  end: number;
  line: number;
}

export interface SString {
  kind: 'string';
  bytes: Uint8Array;
  start: number;
  end: number;
  line: number;
}

export function parseSExprs(text: string): SList[] {
  const out: SList[] = [];
  const stack: SList[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new Error(`wast:${line}: ${msg}`);
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === ';' && text[i + 1] === ';') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '(' && text[i + 1] === ';') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '(' && text[i + 1] === ';') {
          depth++;
          i += 2;
        } else if (text[i] === ';' && text[i + 1] === ')') {
          depth--;
          i += 2;
        } else {
          if (text[i] === '\n') line++;
          i++;
        }
      }
      continue;
    }
    if (c === '(') {
      stack.push({ kind: 'list', items: [], start: i, end: -1, line });
      i++;
      continue;
    }
    if (c === ')') {
      const l = stack.pop() ?? fail('unbalanced )');
      l.end = i + 1;
      i++;
      const parent = stack[stack.length - 1];
      if (parent) parent.items.push(l);
      else out.push(l);
      continue;
    }
    const parent = stack[stack.length - 1] ?? fail('atom outside a list');
    if (c === '"') {
      const start = i;
      const [bytes, next] = readString(text, i + 1, fail);
      for (let k = start; k < next; k++) if (text[k] === '\n') line++;
      i = next;
      parent.items.push({ kind: 'string', bytes, start, end: i, line });
      continue;
    }
    const start = i;
    while (i < n && !' \t\r\n()"'.includes(text[i]!) && !(text[i] === ';' && text[i + 1] === ';')) i++;
    parent.items.push({ kind: 'atom', text: text.slice(start, i), start, end: i, line });
  }
  if (stack.length) fail('unbalanced (');
  return out;
}

const HEX = '0123456789abcdefABCDEF';

/** Reads a string literal body starting after the opening quote; returns bytes and the index after the closing quote. */
function readString(text: string, i: number, fail: (m: string) => never): [Uint8Array, number] {
  const bytes: number[] = [];
  const utf8 = new TextEncoder();
  for (;;) {
    if (i >= text.length) fail('unterminated string');
    const c = text[i]!;
    if (c === '"') return [Uint8Array.from(bytes), i + 1];
    if (c === '\\') {
      const e = text[i + 1]!;
      i += 2;
      switch (e) {
        case 'n':
          bytes.push(10);
          break;
        case 't':
          bytes.push(9);
          break;
        case 'r':
          bytes.push(13);
          break;
        case '\\':
          bytes.push(92);
          break;
        case "'":
          bytes.push(39);
          break;
        case '"':
          bytes.push(34);
          break;
        case 'u': {
          // \u{hex}
          const close = text.indexOf('}', i);
          const cp = parseInt(text.slice(i + 1, close).replace(/_/g, ''), 16);
          for (const b of utf8.encode(String.fromCodePoint(cp))) bytes.push(b);
          i = close + 1;
          break;
        }
        default:
          if (HEX.includes(e) && HEX.includes(text[i]!)) {
            bytes.push(parseInt(e + text[i], 16));
            i++;
          } else fail(`bad escape \\${e}`);
      }
      continue;
    }
    // Copy a run of ordinary characters as UTF-8.
    let j = i;
    while (j < text.length && text[j] !== '"' && text[j] !== '\\') j++;
    for (const b of utf8.encode(text.slice(i, j))) bytes.push(b);
    i = j;
  }
}
