// Tokenizer for the master-file format (RFC 1035 section 5.1): comments, quoted strings,
// parentheses that continue an entry over several lines, and whether an entry starts blank
// (which means "same owner as before").

export class Token {
  text: string;
  quoted: bool;
  constructor(text: string, quoted: bool) {
    this.text = text;
    this.quoted = quoted;
  }
}

export class Entry {
  tokens: Token[] = new Array<Token>();
  startsBlank: bool = false;
  line: i32 = 0;
}

export class TokenizeResult {
  entries: Entry[] = new Array<Entry>();
  error: string = '';
}

function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

function isBlank(c: i32): bool {
  return c == 32 || c == 9 || c == 13;
}

export function tokenize(text: string): TokenizeResult {
  const res = new TokenizeResult();
  const n = text.length;
  let i = 0;
  let line = 1;
  let depth = 0;
  let entry = new Entry();
  let atLineStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (atLineStart) {
      atLineStart = false;
      if (depth == 0) {
        entry = new Entry();
        entry.line = line;
        entry.startsBlank = isBlank(c);
      }
    }
    if (c == 10) {
      line++;
      i++;
      atLineStart = true;
      if (depth == 0 && entry.tokens.length > 0) {
        res.entries.push(entry);
        entry = new Entry();
      }
      continue;
    }
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c == 59) {
      // ';' comment to end of line
      while (i < n && text.charCodeAt(i) != 10) i++;
      continue;
    }
    if (c == 40) {
      depth++;
      i++;
      continue;
    }
    if (c == 41) {
      if (depth == 0) {
        res.error = 'line ' + line.toString() + ': unbalanced ")"';
        return res;
      }
      depth--;
      i++;
      continue;
    }
    if (c == 34) {
      // quoted string: escapes kept for the RDATA parser, newlines not allowed
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d == 92 && j + 1 < n) {
          j += 2;
          continue;
        }
        if (d == 10) break;
        if (d == 34) {
          closed = true;
          break;
        }
        j++;
      }
      if (!closed) {
        res.error = 'line ' + line.toString() + ': unterminated string';
        return res;
      }
      entry.tokens.push(new Token(text.substring(i + 1, j), true));
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (isBlank(d) || d == 10 || d == 59 || d == 40 || d == 41 || d == 34) break;
      if (d == 92 && j + 1 < n) j++;
      j++;
    }
    entry.tokens.push(new Token(text.substring(i, j), false));
    i = j;
  }
  if (depth != 0) {
    res.error = 'line ' + line.toString() + ': unbalanced "("';
    return res;
  }
  if (entry.tokens.length > 0) res.entries.push(entry);
  return res;
}

/** Decodes a character-string's escapes (\X and \DDD) into UTF-8 bytes. */
export function unescapeText(s: string): Uint8Array {
  const out = new Array<u8>();
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c == 92 && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (isDigit(d) && i + 3 < n && isDigit(s.charCodeAt(i + 2)) && isDigit(s.charCodeAt(i + 3))) {
        const v = (d - 48) * 100 + (s.charCodeAt(i + 2) - 48) * 10 + (s.charCodeAt(i + 3) - 48);
        out.push(<u8>(v > 255 ? 255 : v));
        i += 4;
        continue;
      }
      out.push(<u8>d);
      i += 2;
      continue;
    }
    if (c < 128) {
      out.push(<u8>c);
      i++;
      continue;
    }
    // non-ASCII: UTF-8 encode this code unit (surrogate pairs encode via String.UTF8)
    const enc = Uint8Array.wrap(String.UTF8.encode(s.substring(i, i + 1)));
    for (let k = 0; k < enc.length; k++) out.push(enc[k]);
    i++;
  }
  const bytes = new Uint8Array(out.length);
  for (let k = 0; k < out.length; k++) bytes[k] = out[k];
  return bytes;
}
