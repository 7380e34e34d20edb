// The key space: binary-safe keys (Latin-1 strings, one char per byte) to byte values, with
// expiry times in wall-clock milliseconds (they must survive a reboot through the log).
// Expired keys disappear lazily on access and actively through sweep().

export class Entry {
  value: Uint8Array;
  /** Wall-clock ms when the key expires; 0: never. */
  expireAt: i64;
  constructor(value: Uint8Array, expireAt: i64) {
    this.value = value;
    this.expireAt = expireAt;
  }
}

export class KvStore {
  map: Map<string, Entry> = new Map<string, Entry>();
  expiring: i32 = 0;
  bytes: i64 = 0;
  expiredKeys: u64 = 0;

  /** The live entry of `key`, or null (an expired one is deleted on the way). */
  get(key: string, now: i64): Entry | null {
    if (!this.map.has(key)) return null;
    const e = this.map.get(key);
    if (e.expireAt != 0 && e.expireAt <= now) {
      this.remove(key);
      this.expiredKeys++;
      return null;
    }
    return e;
  }

  set(key: string, value: Uint8Array, expireAt: i64): void {
    if (this.map.has(key)) this.remove(key);
    this.map.set(key, new Entry(value, expireAt));
    this.bytes += value.length + key.length;
    if (expireAt != 0) this.expiring++;
  }

  setExpire(e: Entry, expireAt: i64): void {
    if (e.expireAt == 0 && expireAt != 0) this.expiring++;
    else if (e.expireAt != 0 && expireAt == 0) this.expiring--;
    e.expireAt = expireAt;
  }

  remove(key: string): bool {
    if (!this.map.has(key)) return false;
    const e = this.map.get(key);
    if (e.expireAt != 0) this.expiring--;
    this.bytes -= e.value.length + key.length;
    this.map.delete(key);
    return true;
  }

  clear(): void {
    this.map.clear();
    this.expiring = 0;
    this.bytes = 0;
  }

  size(): i32 {
    return this.map.size;
  }

  /** Deletes expired keys, examining at most `budget` expiring keys (bounded pause). */
  sweep(now: i64, budget: i32): i32 {
    if (this.expiring == 0) return 0;
    const keys = this.map.keys();
    let removed = 0;
    let seen = 0;
    for (let i = 0; i < keys.length && seen < budget; i++) {
      const e = this.map.get(keys[i]);
      if (e.expireAt == 0) continue;
      seen++;
      if (e.expireAt <= now) {
        this.remove(keys[i]);
        this.expiredKeys++;
        removed++;
      }
    }
    return removed;
  }
}

/**
 * Redis glob matching (KEYS): * ? [set] [^set] [a-z] and \ escapes. Iterative with one
 * backtrack point for the last '*', so any pattern costs O(pattern x key), never exponential.
 */
export function globMatch(p: string, s: string): bool {
  const pn = p.length;
  const sn = s.length;
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < sn) {
    if (pi < pn && p.charCodeAt(pi) == 42) {
      starP = pi++;
      starS = si;
      continue;
    }
    if (pi < pn) {
      const next = matchOne(p, pi, s.charCodeAt(si));
      if (next >= 0) {
        pi = next;
        si++;
        continue;
      }
    }
    if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
      continue;
    }
    return false;
  }
  while (pi < pn && p.charCodeAt(pi) == 42) pi++;
  return pi == pn;
}

/** Matches one pattern element at p[pi] against `ch`: the index after it, or -1. */
function matchOne(p: string, pi: i32, ch: i32): i32 {
  const pn = p.length;
  const c = p.charCodeAt(pi);
  if (c == 63) return pi + 1;
  if (c == 91) {
    let i = pi + 1;
    let negate = false;
    if (i < pn && p.charCodeAt(i) == 94) {
      negate = true;
      i++;
    }
    let matched = false;
    while (i < pn && p.charCodeAt(i) != 93) {
      let a = p.charCodeAt(i);
      if (a == 92 && i + 1 < pn) {
        i++;
        a = p.charCodeAt(i);
      }
      if (i + 2 < pn && p.charCodeAt(i + 1) == 45 && p.charCodeAt(i + 2) != 93) {
        let b = p.charCodeAt(i + 2);
        let lo = a;
        if (lo > b) {
          const t = lo;
          lo = b;
          b = t;
        }
        if (ch >= lo && ch <= b) matched = true;
        i += 3;
        continue;
      }
      if (a == ch) matched = true;
      i++;
    }
    if (matched == negate) return -1;
    return i < pn ? i + 1 : i;
  }
  let lit = c;
  let next = pi + 1;
  if (c == 92 && pi + 1 < pn) {
    lit = p.charCodeAt(pi + 1);
    next = pi + 2;
  }
  return lit == ch ? next : -1;
}
