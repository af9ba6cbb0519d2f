// Compiler errors as values, with OPA's codes and its {code, message, location} shape
// (OPA v1/ast/errors.go prints them as "file:row: code: message").
import type { Location } from './ast.js';
import type { RegoType } from '../builtins/declarations.js';

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
  /** Parse errors: the source line and the index of the column in it. Builtin type errors: ArgErrorDetails. */
  details?: { line: string; idx: number } | ArgErrorDetails;
}

/**
 * OPA's details of a builtin call's type error: the operand types found (null where unknown) and the
 * declaration wanted (its arguments, then its result).
 */
export interface ArgErrorDetails {
  have: Array<RegoType | null>;
  want: { args: RegoType[]; variadic?: RegoType };
}

/** OPA stops after this many errors ("too many errors"); so do we. */
export const MAX_ERRORS = 10;

export function regoError(code: RegoErrorCode, loc: Location, message: string, source?: string): RegoError {
  const err: RegoError = { code, message, location: { file: loc.file, row: loc.row, col: loc.col } };
  if (source !== undefined) err.details = errorDetail(source, loc.offset);
  return err;
}

/**
 * The source line an error points into and the byte index in it, as OPA's parser reports them: OPA steps back
 * from the offset over whitespace (so an error at end of file shows the last line with text, pointing at its
 * last character), and counts in UTF-8 bytes. Its whitespace test reads single bytes as runes, so the
 * continuation bytes 0x85 and 0xA0 count as whitespace too; kept for identical output.
 */
function errorDetail(source: string, offset: number): { line: string; idx: number } {
  const bytes = Buffer.from(source, 'utf8');
  if (bytes.length === 0) return { line: '', idx: 0 };
  let at = Math.min(Math.max(Buffer.byteLength(source.slice(0, offset), 'utf8'), 0), bytes.length - 1);
  while (at > 0 && isSpaceByte(bytes[at])) at--;
  let begin = at;
  while (begin > 0 && !isNewline(bytes[begin])) begin--;
  if (isNewline(bytes[begin])) begin++;
  let end = at;
  while (end < bytes.length && !isNewline(bytes[end])) end++;
  if (begin > end) begin = end;
  return { line: bytes.subarray(begin, end).toString('utf8'), idx: at - begin };
}

function isNewline(b: number): boolean {
  return b === 0x0a || b === 0x0d;
}

function isSpaceByte(b: number): boolean {
  return (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0x85 || b === 0xa0;
}
