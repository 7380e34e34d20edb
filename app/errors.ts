// One error type crosses every boundary (API, IPC, HTTP, CLI): a stable code, a message written
// for the user (it says what to fix), and the field it is about when there is one.

export type ErrorCode =
  'invalid_input' | 'not_found' | 'conflict' | 'unavailable' | 'unauthorized' | 'cancelled' | 'internal';

export interface KilnErrorData {
  code: ErrorCode;
  message: string;
  field?: string;
}

export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'KilnError';
    this.code = code;
    this.field = field;
  }

  toJSON(): KilnErrorData {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** Turns anything thrown into the structured form that crosses a transport. */
export function toErrorData(err: unknown): KilnErrorData {
  if (err instanceof KilnError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}
