// Builtin errors, kept for the host instead of lost. OPA's wasm target is non-strict (a builtin error makes
// the call undefined), but `strict-builtin-errors` must report the first error with its message: a host
// builtin that fails notes its error here and answers undefined, and the host (src/engine/wasm-host.ts) takes
// the note after each call.
import { BuiltinError } from './args.js';

/** A builtin's error as OPA reports it: eval_type_error for a wrong operand type, else eval_builtin_error. */
export interface BuiltinFailure {
  code: 'eval_type_error' | 'eval_builtin_error';
  message: string;
}

let noted: BuiltinFailure | undefined;

/** Notes why builtin `name` failed; the message gets OPA's "name: " prefix where the error lacks it. */
export function noteBuiltinFailure(name: string, err: unknown): void {
  const text = err instanceof Error ? err.message : String(err);
  const message = err instanceof BuiltinError || text.startsWith(`${name}: `) ? text : `${name}: ${text}`;
  noted = { code: isTypeError(err, message) ? 'eval_type_error' : 'eval_builtin_error', message };
}

/** The failure noted since the last call, cleared. */
export function takeBuiltinFailure(): BuiltinFailure | undefined {
  const failure = noted;
  noted = undefined;
  return failure;
}

// OPA's operand type errors (builtins.NewOperandTypeErr and friends) all read "operand N must be ...".
function isTypeError(err: unknown, message: string): boolean {
  const code = (err as { code?: unknown }).code;
  if (code === 'eval_type_error' || code === 'eval_builtin_error') return code === 'eval_type_error';
  return /^[\w.]+: operand \d+ must be /.test(message);
}
