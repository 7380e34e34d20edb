import { KilnError } from '../errors.ts';
import type { BuildDiagnostic, BuildFailureData, StageName } from './types.ts';

/** A failed build: the stage, a message that says what to fix, and the compiler's diagnostics. */
export class BuildFailure extends KilnError {
  readonly stage: StageName;
  readonly diagnostics: BuildDiagnostic[];
  readonly cancelled: boolean;

  constructor(
    stage: StageName,
    message: string,
    opts: { diagnostics?: BuildDiagnostic[]; cancelled?: boolean; invalidInput?: boolean } = {},
  ) {
    super(opts.cancelled ? 'cancelled' : opts.invalidInput ? 'invalid_input' : 'internal', message);
    this.name = 'BuildFailure';
    this.stage = stage;
    this.diagnostics = opts.diagnostics ?? [];
    this.cancelled = opts.cancelled === true;
  }

  data(): BuildFailureData {
    const code = this.code === 'invalid_input' || this.code === 'cancelled' ? this.code : 'internal';
    return {
      stage: this.stage,
      code,
      message: this.message,
      cancelled: this.cancelled,
      diagnostics: this.diagnostics,
    };
  }

  static from(data: BuildFailureData): BuildFailure {
    return new BuildFailure(data.stage, data.message, {
      diagnostics: data.diagnostics,
      cancelled: data.cancelled,
      invalidInput: data.code === 'invalid_input',
    });
  }
}

/** `file:line:column: error TS1234: message` then the source line and a caret, like a compiler. */
export function formatDiagnostic(d: BuildDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const head = `${where}: ${d.severity} ${d.code ? `AS${d.code}` : ''}`.trimEnd();
  return d.excerpt ? `${head}: ${d.message}\n${indent(d.excerpt)}` : `${head}: ${d.message}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
