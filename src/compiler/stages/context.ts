// What every compile stage works on: the module set (owned and rewritten in place by the stages), the errors
// found so far, and the generator of compiler-made local variable names.
import type { Location, Module, Term } from '../ast.js';
import { MAX_ERRORS, regoError, type RegoError, type RegoErrorCode } from '../errors.js';

export interface CompileOptions {
  /**
   * Number of arguments of a builtin (`count` → 1), so that the extra argument of `count(xs, n)` is known to be
   * an output. Unknown builtins are taken to have no output argument.
   */
  builtinArity?: (name: string) => number | undefined;
}

export class CompileContext {
  readonly errors: RegoError[] = [];
  /** Generated local name → the name written in the source, for messages. */
  readonly rewritten = new Map<string, string>();
  private locals = 0;

  constructor(readonly modules: Module[], readonly options: CompileOptions = {}) {}

  /** Records an error; false once the error limit is reached, so that stages can stop early. */
  error(code: RegoErrorCode, loc: Location, message: string): boolean {
    if (this.errors.length < MAX_ERRORS) this.errors.push(regoError(code, loc, message));
    return this.errors.length < MAX_ERRORS;
  }

  /** A fresh local variable name, `__local0__`, `__local1__`, ... as OPA names them. */
  local(loc: Location, original?: string): Term {
    const value = `__local${this.locals++}__`;
    if (original !== undefined) this.rewritten.set(value, original);
    return { type: 'var', value, loc };
  }
}

export interface Stage {
  /** OPA's stage name (v1/ast/compile.go), so stage lists and metrics read alike. */
  name: string;
  run(ctx: CompileContext): void;
}
