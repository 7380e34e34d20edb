// A decode-only pass over every function body: finds the errors that make a module malformed
// (illegal opcodes, bad immediates, missing `end`, size mismatches) without judging types. The
// validator runs it before reporting a non-malformed error, so that a module is reported the way
// the spec's reference implementation (decode everything, then validate) reports it.

import { skipImmediates } from './immediates.ts';
import { CodeReader, Op, WasmError, type WasmModule } from './types.ts';

/** Throws the first malformed error found in the bodies; returns if there is none. */
export function scanBodiesForMalformed(m: WasmModule): void {
  const r = new CodeReader(m.bytes, 0, m.bytes.length);
  for (let i = 0; i < m.codes.length; i++) {
    const body = m.codes[i]!;
    const where = `function ${m.numImportedFuncs + i}`;
    const malformed = (reason: string, at: number): never => {
      throw new WasmError('malformed', reason, where, at);
    };
    r.pos = body.codeStart;
    // Open constructs: 1 = then-part of an `if` (may see `else`), 0 = any other.
    const open: number[] = [0];
    try {
      while (open.length > 0) {
        const op = r.opcode();
        const at = r.opOffset;
        if (op === Op.end) {
          open.pop();
          continue;
        }
        if (op === Op.else) {
          if (open[open.length - 1] !== 1) malformed('END opcode expected', at);
          open[open.length - 1] = 0;
          continue;
        }
        if (op === Op.block || op === Op.loop || op === Op.if) {
          blockTypeUnchecked(r);
          open.push(op === Op.if ? 1 : 0);
          continue;
        }
        if (
          op >> 8 === 0xfd ||
          op >> 8 === 0xfe ||
          op >> 8 === 0x10fd ||
          op >> 8 === 0x10fe ||
          op === Op.try_ ||
          op === Op.try_table
        ) {
          return; // a refused proposal's encoding or block structure we do not model: cannot judge further
        }
        if (!skipImmediates(r, op, m.types)) malformed('illegal opcode', at);
        if ((op === Op.memory_init || op === Op.data_drop) && m.dataCount === null) {
          malformed('data count section required', at);
        }
      }
    } catch (e) {
      if (e instanceof WasmError && e.kind === 'malformed') throw e;
      return;
    }
    if (r.pos !== body.codeEnd) malformed('section size mismatch', body.codeStart);
  }
}

/** A block type without checking a type index against the module (that is validation). */
function blockTypeUnchecked(r: CodeReader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b !== undefined && b >= 0x6f && b <= 0x7f)) {
    r.pos++;
    return;
  }
  if (r.s33() < 0) r.fail('malformed value type');
}
