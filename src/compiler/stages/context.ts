// What every compile stage works on: the module set (owned and rewritten in place by the stages), the errors
// found so far, and the generator of compiler-made local variable names.
import type { Location, Module, Term } from '../ast.js';
import type { SchemaSet } from './schema-annotations.js';
import { MAX_ERRORS, regoError, type RegoError, type RegoErrorCode, type TypeErrorDetails } from '../errors.js';

/** What the stages need to know about a builtin function. */
export interface BuiltinInfo {
  /** Declared arguments; a call with one more passes its result out through the last (`count(xs, n)`). */
  args: number;
  variadic?: boolean;
  /** Deprecated builtins are refused in Rego v1 modules (CheckDeprecatedBuiltins). */
  deprecated?: boolean;
  /** The declaration as `opa capabilities` prints it: argument and result types for CheckTypes. */
  decl?: unknown;
}

export interface CompileOptions {
  /**
   * The builtins available (OPA's capabilities). Without it, calls to unknown functions are not reported and
   * no builtin call is taken to have an output argument.
   */
  builtin?: (name: string) => BuiltinInfo | undefined;
  /**
   * OPA's strict mode (`opa check --strict`): unused imports, assignments and function arguments are errors,
   * and v0 modules get v1's duplicate-import and deprecated-builtin checks.
   */
  strict?: boolean;
  /**
   * Type checking with JSON schemas (OPA's UseTypeCheckAnnotations, as opa check, eval, test and bench use it):
   * the schemas of `# METADATA` annotations, and `set` (`--schema`) for the input schema and the schema
   * documents annotations refer to. Without it, annotations' schemas are not looked at, as in opa run and build.
   */
  schemas?: { set?: SchemaSet };
  /** OPA's compile error limit (`opa check --max-errors`): MAX_ERRORS when not given, none when 0 or less. */
  maxErrors?: number;
}

export class CompileContext {
  readonly errors: RegoError[] = [];
  /** Errors OPA reports without ending the run (strict-mode findings, duplicate imports): merged at the end. */
  readonly continuing: RegoError[] = [];
  /** Every error recorded, both kinds, in the order found: OPA's error limit keeps the first ones. */
  readonly found: RegoError[] = [];
  /** Generated local name → the name written in the source, for messages. */
  readonly rewritten = new Map<string, string>();
  private locals = 0;
  private queryLocals = 0;
  /** Files of ad-hoc queries (Module.query): OPA's query compiler names their locals apart, `__localq0__`, .... */
  private readonly queryFiles: ReadonlySet<string>;

  /** How many errors are recorded before the run stops (CompileOptions.maxErrors). */
  readonly errorLimit: number;

  constructor(readonly modules: Module[], readonly options: CompileOptions = {}) {
    const max = options.maxErrors ?? MAX_ERRORS;
    this.errorLimit = max > 0 ? max : Infinity;
    this.queryFiles = new Set(modules.filter((m) => m.query).map((m) => m.file));
  }

  /** Records an error; false once the error limit is reached, so that stages can stop early. */
  error(code: RegoErrorCode, loc: Location, message: string, details?: TypeErrorDetails): boolean {
    if (this.errors.length < this.errorLimit) {
      const err = details ? { ...regoError(code, loc, message), details } : regoError(code, loc, message);
      this.errors.push(err);
      this.found.push(err);
    }
    return this.errors.length < this.errorLimit;
  }

  /**
   * Records an error that lets the later stages run (see `continuing`). Not in an ad-hoc query: OPA's query
   * compiler ends at the first stage that reports an error, whatever the error.
   */
  errorContinuing(loc: Location, message: string): void {
    if (this.inQuery(loc)) {
      this.error('rego_compile_error', loc, message);
      return;
    }
    const err = regoError('rego_compile_error', loc, message);
    this.continuing.push(err);
    this.found.push(err);
  }

  /** The policy modules, without the ad-hoc query's (Module.query): what the module-only checks read. */
  get policyModules(): Module[] {
    return this.modules.filter((m) => !m.query);
  }

  /** Whether `loc` is in an ad-hoc query (Module.query) rather than a policy module. */
  inQuery(loc: Location): boolean {
    return this.queryFiles.has(loc.file);
  }

  /** A fresh local variable name, `__local0__`, `__local1__`, ... (in a query `__localq0__`, ...) as OPA names them. */
  local(loc: Location, original?: string): Term {
    const value = this.inQuery(loc) ? `__localq${this.queryLocals++}__` : `__local${this.locals++}__`;
    if (original !== undefined) this.rewritten.set(value, original);
    return { type: 'var', value, loc };
  }
}

export interface Stage {
  /** OPA's stage name (v1/ast/compile.go), so stage lists and metrics read alike. */
  name: string;
  run(ctx: CompileContext): void;
}
