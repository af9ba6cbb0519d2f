// Words the first builtin error of an evaluation as OPA reports it (code and "name: message"), from what the
// runtime kept (src/wasm/runtime/faults.ts): the fault code, the builtin's name and its operands. The runtime
// keeps codes, not text; the messages are written here, with OPA's wording where OPA's message does not
// depend on Go internals.
import { isRegoSet } from '../builtins/rego-value.js';
import type { BuiltinFailure } from '../builtins/failures.js';
import { readJson } from '../json/reader.js';
import { NumberText } from '../json/number-text.js';
import { regoText } from '../builtins/sprintf.js';
import { KEYWORDS_V1 } from '../compiler/parser.js';
import { nameSegment } from '../compiler/rego-text.js';

// Codes of src/wasm/runtime/faults.ts (kind in the low 8 bits; a type fault adds position and wanted type).
const DIV_ZERO = 1;
const REM_ZERO = 2;
const NUMBER_SYNTAX = 3;
const JSON_SYNTAX = 4;
const TYPE = 5;
const REM_NOT_INT = 6;
/** The host's own builtins: the message is the one the host noted. */
export const HOST_FAULT = 255;

const WANTED: Record<number, string> = {
  1: 'number',
  2: 'string',
  3: 'one of {null, boolean, number, string}',
  4: 'one of {set, array}',
  5: 'set',
  6: 'one of {number, set}',
};

const KEYWORDS = new Set(KEYWORDS_V1);

/** A rule path segment as OPA prints it in a ref: `.name`, or `["text"]` for what is not a plain name. */
function refSegment(key: string): string {
  return KEYWORDS.has(key) ? `[${JSON.stringify(key)}]` : nameSegment(key);
}

/**
 * The opening of OPA's conflict error for the rule or function at `path` (segments under data), shared by the
 * wasm runtime's errors and partial evaluation's.
 */
export function conflictHead(isFunction: boolean, path: string[]): string {
  const ref = `data${path.map(refSegment).join('')}`;
  return isFunction ? `function ${ref} produced conflicting values for the same inputs` : `rule ${ref} produced conflicting values`;
}

/** One value of a conflict and where the definition that produced it is written. */
export interface ConflictEntry {
  value: unknown;
  site: { file: string; row: number; col: number };
}

/**
 * OPA's conflict error as `file:row:col: message` (the form every reader of an evaluation error splits):
 * `head` opens the message, then each value with its definition's file and row, "..." when more were left out;
 * the location is that of the first definition in conflict with the first value.
 */
export function conflictErrorText(head: string, entries: ConflictEntry[], more: boolean): string {
  const lines = entries.map((e) => `\n  ${regoText(e.value)} at ${e.site.file}:${e.site.row}`).join('');
  const at = (entries[1] ?? entries[0])?.site;
  const message = `${head}:${lines}${more ? '\n  ...' : ''}`;
  return at ? `${at.file}:${at.row}:${at.col}: ${message}` : message;
}

/** OPA's name for a value's type. */
export function regoTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (isRegoSet(v)) return 'set';
  if (Array.isArray(v)) return 'array';
  if (v instanceof NumberText) return 'number';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'bigint') return 'number';
  return typeof v;
}

export function faultMessage(name: string, code: number, operands: unknown[], host: BuiltinFailure | undefined): BuiltinFailure {
  const kind = code & 0xff;
  const builtin = (message: string): BuiltinFailure => ({ code: 'eval_builtin_error', message: `${name}: ${message}` });
  switch (kind) {
    case HOST_FAULT:
      if (host) return host;
      break;
    case DIV_ZERO:
      return builtin('divide by zero');
    case REM_ZERO:
      return builtin('modulo by zero');
    case REM_NOT_INT:
      return builtin('modulo on floating-point number');
    case NUMBER_SYNTAX:
      return builtin(`strconv.ParseFloat: parsing ${JSON.stringify(operands[0])}: invalid syntax`);
    case JSON_SYNTAX:
      return builtin(jsonSyntaxError(operands[0]));
    case TYPE: {
      const pos = (code >> 8) & 0xff;
      return { code: 'eval_type_error', message: `${name}: operand ${pos} must be ${WANTED[code >> 16] ?? 'another type'} but got ${regoTypeName(operands[pos - 1])}` };
    }
  }
  // A failure the runtime gives no reason for: name the operands' types, so the caller can see what was passed.
  return builtin(`cannot be evaluated with operands of type ${operands.map(regoTypeName).join(', ') || 'none'}`);
}

function jsonSyntaxError(text: unknown): string {
  try {
    readJson(String(text));
  } catch (err) {
    return (err as Error).message;
  }
  return 'invalid JSON';
}
