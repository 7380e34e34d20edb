// Typed access to the appliance's settings (the JSON blob of kiln.config_get).
import { configText } from "./sys";
import { JsonValue, parseJson, J_OBJ, J_STR, J_NUM, J_BOOL } from "./json";

export { JsonValue, parseJson } from "./json";

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
    if (v.kind == J_STR) return v.str;
    if (v.kind == J_NUM) return v.num.toString();
    return dflt;
  }
  int(key: string, dflt: i64): i64 {
    if (!this.root.has(key)) return dflt;
    const v = this.root.get(key);
    if (v.kind == J_NUM && isFinite(v.num)) return <i64>v.num;
    if (v.kind == J_STR) {
      const n = I64.parseInt(v.str, 10);
      return n;
    }
    return dflt;
  }
  bool(key: string, dflt: bool): bool {
    if (!this.root.has(key)) return dflt;
    const v = this.root.get(key);
    if (v.kind == J_BOOL) return v.bool;
    return dflt;
  }
}
