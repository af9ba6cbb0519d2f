// The compile failure every front end reports (Policy API, bundle activation, CLI), and its form on a thread
// channel. Kept apart from compiler.ts so a thread that only relays compiles does not load the back end.

/** One error as OPA's API reports it; `details` as OPA gives them (parse errors: the source line and the byte index in it). */
export interface CompileErrorDetail {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
  details?: Record<string, unknown>;
}

/** A compile failure with OPA-shaped details so the Policy API can report them as OPA does. */
export class RegoCompileError extends Error {
  override name = 'RegoCompileError';
  constructor(
    message: string,
    readonly errors: CompileErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** A compile refusal carried across a thread channel; RegoCompileError keeps its details. */
export interface WireCompileError {
  name: string;
  message: string;
  errors?: CompileErrorDetail[];
}

export function compileErrorToWire(err: Error): WireCompileError {
  return { name: err instanceof RegoCompileError ? 'RegoCompileError' : err.name, message: err.message, ...(err instanceof RegoCompileError ? { errors: err.errors } : {}) };
}

export function compileErrorFromWire(error: WireCompileError): Error {
  return error.name === 'RegoCompileError' ? new RegoCompileError(error.message, error.errors) : new Error(error.message);
}
