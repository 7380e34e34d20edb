// Base64 for data the build hands an appliance as text (a site bundle in a generated source,
// a compiled dns zone in the configuration).

/** Decodes standard base64; padding and whitespace are skipped. */
export function base64Decode(s: string): Uint8Array {
  const n = s.length;
  const out = new Uint8Array((n / 4) * 3 + 3);
  let acc: u32 = 0;
  let bits = 0;
  let len = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let v: i32 = -1;
    if (c >= 65 && c <= 90) v = c - 65;
    else if (c >= 97 && c <= 122) v = c - 71;
    else if (c >= 48 && c <= 57) v = c + 4;
    else if (c == 43) v = 62;
    else if (c == 47) v = 63;
    if (v < 0) continue; // padding and whitespace
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      unchecked((out[len++] = <u8>(acc >> bits)));
    }
  }
  return out.subarray(0, len);
}
