// Compiler errors as values, with OPA's codes and its {code, message, location} shape
// (OPA v1/ast/errors.go prints them as "file:row: code: message").
import type { Location } from './ast.js';

export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_type_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error';

export interface RegoError {
  code: RegoErrorCode;
  message: string;
  location: { file: string; row: number; col: number };
  /** The source line and the index of the column in it, as OPA's parser error details. */
  details?: { line: string; idx: number };
}

/** OPA stops after this many errors ("too many errors"); so do we. */
export const MAX_ERRORS = 10;

export function regoError(code: RegoErrorCode, loc: Location, message: string, source?: string): RegoError {
  const err: RegoError = { code, message, location: { file: loc.file, row: loc.row, col: loc.col } };
  if (source !== undefined) {
    const start = source.lastIndexOf('\n', loc.offset - 1) + 1;
    let stop = source.indexOf('\n', loc.offset);
    if (stop < 0) stop = source.length;
    err.details = { line: source.slice(start, stop).replace(/\r$/, ''), idx: loc.offset - start };
  }
  return err;
}
