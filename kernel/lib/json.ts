// A small JSON parser for the config blob (objects, arrays, strings, numbers, booleans, null).
// Malformed input yields null, never a trap; nesting depth is bounded. A number keeps its text:
// the settings only hold integers, and converting to f64 here would link the float parser and
// printer (about 10 KiB of native code) into every appliance; num() converts on demand.

export const J_NULL = 0;
export const J_BOOL = 1;
export const J_NUM = 2;
export const J_STR = 3;
export const J_ARR = 4;
export const J_OBJ = 5;

export class JsonValue {
  kind: i32 = J_NULL;
  bool: bool = false;
  /** J_STR: the string; J_NUM: the number's text as written. */
  str: string = "";
  arr: Array<JsonValue> = [];
  obj: Map<string, JsonValue> = new Map<string, JsonValue>();
  /** J_NUM as an f64 (NaN for other kinds). */
  num(): f64 {
    return this.kind == J_NUM ? F64.parseFloat(this.str) : NaN;
  }
}

class Parser {
  s: string;
  i: i32 = 0;
  ok: bool = true;
  constructor(s: string) {
    this.s = s;
  }
  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 32 || c == 9 || c == 10 || c == 13) this.i++;
      else break;
    }
  }
  peek(): i32 {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }
  fail(): JsonValue {
    this.ok = false;
    return new JsonValue();
  }
  lit(word: string): bool {
    if (this.s.substr(this.i, word.length) == word) {
      this.i += word.length;
      return true;
    }
    return false;
  }
  str(): string {
    // assumes current char is '"'
    this.i++;
    let out = "";
    let start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 34) {
        out += this.s.substring(start, this.i);
        this.i++;
        return out;
      }
      if (c == 92) {
        out += this.s.substring(start, this.i);
        this.i++;
        if (this.i >= this.s.length) break;
        const e = this.s.charCodeAt(this.i);
        this.i++;
        if (e == 110) out += "\n";
        else if (e == 116) out += "\t";
        else if (e == 114) out += "\r";
        else if (e == 98) out += "\b";
        else if (e == 102) out += "\f";
        else if (e == 117) {
          if (this.i + 4 > this.s.length) break;
          const h = I32.parseInt(this.s.substr(this.i, 4), 16);
          this.i += 4;
          out += String.fromCharCode(h);
        } else out += String.fromCharCode(e);
        start = this.i;
        continue;
      }
      this.i++;
    }
    this.ok = false;
    return "";
  }
  value(depth: i32): JsonValue {
    if (depth > 32) return this.fail();
    this.ws();
    const c = this.peek();
    const v = new JsonValue();
    if (c == 123) {
      this.i++;
      v.kind = J_OBJ;
      this.ws();
      if (this.peek() == 125) {
        this.i++;
        return v;
      }
      while (this.ok) {
        this.ws();
        if (this.peek() != 34) return this.fail();
        const k = this.str();
        this.ws();
        if (this.peek() != 58) return this.fail();
        this.i++;
        const x = this.value(depth + 1);
        if (!this.ok) return v;
        v.obj.set(k, x);
        this.ws();
        const d = this.peek();
        this.i++;
        if (d == 125) return v;
        if (d != 44) return this.fail();
      }
      return v;
    }
    if (c == 91) {
      this.i++;
      v.kind = J_ARR;
      this.ws();
      if (this.peek() == 93) {
        this.i++;
        return v;
      }
      while (this.ok) {
        const x = this.value(depth + 1);
        if (!this.ok) return v;
        v.arr.push(x);
        this.ws();
        const d = this.peek();
        this.i++;
        if (d == 93) return v;
        if (d != 44) return this.fail();
      }
      return v;
    }
    if (c == 34) {
      v.kind = J_STR;
      v.str = this.str();
      return v;
    }
    if (this.lit("true")) {
      v.kind = J_BOOL;
      v.bool = true;
      return v;
    }
    if (this.lit("false")) {
      v.kind = J_BOOL;
      return v;
    }
    if (this.lit("null")) return v;
    const start = this.i;
    while (this.i < this.s.length) {
      const d = this.s.charCodeAt(this.i);
      if ((d >= 48 && d <= 57) || d == 45 || d == 43 || d == 46 || d == 101 || d == 69) this.i++;
      else break;
    }
    if (this.i == start) return this.fail();
    v.kind = J_NUM;
    v.str = this.s.substring(start, this.i);
    return v;
  }
}

export function parseJson(text: string): JsonValue | null {
  const p = new Parser(text);
  const v = p.value(0);
  if (!p.ok) return null;
  p.ws();
  if (p.i != text.length) return null;
  return v;
}
