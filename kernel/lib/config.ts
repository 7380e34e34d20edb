// Typed access to the appliance's settings (the JSON blob of kiln.config_get).
import { configText } from "./sys";
import { JsonValue, parseJson, J_OBJ, J_STR, J_NUM, J_BOOL } from "./json";

export { JsonValue, parseJson } from "./json";

function isInteger(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (i == 0 && c == 45))) return false;
  }
  return text.length > 0;
}

export class Config {
  root: Map<string, JsonValue>;
  constructor(root: Map<string, JsonValue>) {
    this.root = root;
  }
  static load(): Config {
    return Config.fromText(configText());
  }
  static fromText(text: string): Config {
    const v = parseJson(text);
    if (v != null && v.kind == J_OBJ) return new Config(v.obj);
    return new Config(new Map<string, JsonValue>());
  }
  has(key: string): bool {
    return this.root.has(key);
  }
  str(key: string, dflt: string): string {
    if (!this.root.has(key)) return dflt;
    const v = this.root.get(key);
    if (v.kind == J_STR || v.kind == J_NUM) return v.str;
    return dflt;
  }
  /** An integer setting; a number with a fraction or exponent (never in settings) gives dflt. */
  int(key: string, dflt: i64): i64 {
    if (!this.root.has(key)) return dflt;
    const v = this.root.get(key);
    if (v.kind == J_NUM && !isInteger(v.str)) return dflt;
    if (v.kind == J_NUM || v.kind == J_STR) return I64.parseInt(v.str, 10);
    return dflt;
  }
  bool(key: string, dflt: bool): bool {
    if (!this.root.has(key)) return dflt;
    const v = this.root.get(key);
    if (v.kind == J_BOOL) return v.bool;
    return dflt;
  }
}
