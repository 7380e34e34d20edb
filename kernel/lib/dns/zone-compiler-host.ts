// Runs the dns zone compiler (zone-compiler.ts, compiled to Wasm by asc like any appliance) under
// Node: the build turns the zone setting into the binary zone the appliance embeds as data, and
// reports a bad zone as a build error naming the setting. No imports: the parser is pure.

import { Wasm, type WasmMemory } from '../host/wasm-api.ts';

/** The AssemblyScript entry, relative to kernel/lib. */
export const ZONE_COMPILER_ENTRY = 'dns/zone-compiler.ts';

interface ZoneCompilerExports {
  memory: WasmMemory;
  reserve(len: number): void;
  inPtr(): number;
  outPtr(): number;
  compile(originLen: number, textLen: number): number;
}

export class ZoneSyntaxError extends Error {
  constructor(
    /** the setting the zone came from */
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

/** The settings the zone is made from; the appliance needs none of them at run time. */
export const ZONE_SETTINGS = ['zone_file', 'zone_text', 'origin'] as const;

/**
 * Compiles a zone: `zone_text` when not empty, else the zone file's text. Throws ZoneSyntaxError
 * with the parser's message ("line N: ...") and the setting it came from.
 */
export function compileZone(
  wasm: Uint8Array,
  fileText: string,
  settings: { zone_text?: unknown; origin?: unknown },
): Uint8Array {
  const inline = typeof settings.zone_text === 'string' ? settings.zone_text : '';
  const origin = typeof settings.origin === 'string' ? settings.origin : '';
  const setting = inline.length > 0 ? 'zone_text' : 'zone_file';
  const text = Buffer.from(inline.length > 0 ? inline : fileText, 'utf8');
  const originBytes = Buffer.from(origin, 'utf8');
  const abort = (): never => {
    throw new Error('the zone compiler aborted');
  };
  const instance = new Wasm.Instance(new Wasm.Module(wasm), { env: { abort } });
  const ex = instance.exports as unknown as ZoneCompilerExports;
  ex.reserve(originBytes.length + text.length);
  const input = new Uint8Array(ex.memory.buffer, ex.inPtr(), originBytes.length + text.length);
  input.set(originBytes, 0);
  input.set(text, originBytes.length);
  const n = ex.compile(originBytes.length, text.length);
  const out = new Uint8Array(ex.memory.buffer, ex.outPtr(), Math.abs(n)).slice();
  if (n < 0) throw new ZoneSyntaxError(setting, Buffer.from(out).toString('utf8'));
  return out;
}
