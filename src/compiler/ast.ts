// The Rego abstract syntax tree as plain typed data. The shapes follow OPA's AST (v1/ast/policy.go, term.go)
// closely, and the `type` tags are the ones `opa parse --format json` prints, so that the planner can be written
// against OPA's documentation of each node and our trees can be compared with OPA's output.

/** A position in a source file. row and col are 1-based (col counts characters); offset/end index the source. */
export interface Location {
  file: string;
  row: number;
  col: number;
  offset: number;
  end: number;
}

interface Node {
  loc: Location;
}

export interface NullTerm extends Node { type: 'null' }
export interface BooleanTerm extends Node { type: 'boolean'; value: boolean }
/** The literal text is kept (e.g. "1e400", "0.10") so no precision is lost; a leading '-' is part of it. */
export interface NumberTerm extends Node { type: 'number'; value: string }
export interface StringTerm extends Node { type: 'string'; value: string }
/** Variables; `_` wildcards are renamed `$0`, `$1`, ... per module, as OPA does. */
export interface VarTerm extends Node { type: 'var'; value: string }
/** value[0] is the head (a var for data/input/locals, or a composite/call); `.x` segments are string terms. */
export interface RefTerm extends Node { type: 'ref'; value: Term[] }
export interface ArrayTerm extends Node { type: 'array'; value: Term[] }
export interface SetTerm extends Node { type: 'set'; value: Term[] }
export interface ObjectTerm extends Node { type: 'object'; value: [Term, Term][] }
/** A call nested in a term: value[0] is the operator (a ref such as `plus` or `data.pkg.f`), the rest are args. */
export interface CallTerm extends Node { type: 'call'; value: Term[] }
export interface ArrayComprehension extends Node { type: 'arraycomprehension'; value: { term: Term; body: Body } }
export interface SetComprehension extends Node { type: 'setcomprehension'; value: { term: Term; body: Body } }
export interface ObjectComprehension extends Node {
  type: 'objectcomprehension';
  value: { key: Term; value: Term; body: Body };
}
/**
 * `$"a{x}b"` and `` $`...` ``: literal chunks are string terms, scalar expressions are kept as terms, any other
 * expression is kept as an Expr (OPA lowers the whole to `internal.template_string`).
 */
export interface TemplateString extends Node {
  type: 'templatestring';
  value: { parts: (Term | Expr)[]; multiLine: boolean };
}

export type Scalar = NullTerm | BooleanTerm | NumberTerm | StringTerm;
export type Term =
  | Scalar
  | VarTerm
  | RefTerm
  | ArrayTerm
  | SetTerm
  | ObjectTerm
  | CallTerm
  | ArrayComprehension
  | SetComprehension
  | ObjectComprehension
  | TemplateString;

/** `some x, y` declares locals; `some x in xs` / `some k, v in xs` has one symbol, the internal.member_2/3 call. */
export interface SomeDecl extends Node { type: 'some'; symbols: Term[] }
export interface Every extends Node { type: 'every'; key: Term | null; value: Term; domain: Term; body: Body }
/** `not { ... }` and `not (a or b)` (future.keywords.not): negation of a whole body. */
export interface NotBody extends Node { type: 'not'; body: Body; explicitBody: boolean }
/** `a and b`, `a or b` (future.keywords.and / .or). */
export interface LogicalExpr extends Node { type: 'logicaland' | 'logicalor'; lhs: Body; rhs: Body }

/**
 * One literal of a body. `terms` is a single term (`x`, `input.allow`), an operator call as a flat list
 * (`[ref(eq), a, b]` for `a = b`, `[ref(assign), x, v]` for `x := v`, `[ref(f), args...]` for `f(args)`),
 * or one of the keyword forms.
 */
export interface Expr extends Node {
  index: number;
  negated?: true;
  /** Set on literals the parser made up (the `true` body of `p := 1`). */
  generated?: true;
  /** Set on the equality a `:=` became (RewriteLocalVars): its left side only declares. */
  assignment?: true;
  terms: Term | Term[] | SomeDecl | Every | NotBody | LogicalExpr;
  with?: With[];
}

export interface With extends Node { target: Term; value: Term }

export type Body = Expr[];

export interface Head extends Node {
  /** The full head reference, e.g. [var a, string b, var x] for `a.b[x] := 1`. */
  ref: Term[];
  /** The rule name when the head is a plain var or a `p[x]` style head (OPA's Head.Name); '' otherwise. */
  name: string;
  args?: Term[];
  /** Multi-value (`contains`) element, or the key of a v0 `p[k] = v` partial object rule. */
  key?: Term;
  value?: Term;
  /** True for `:=`. */
  assign: boolean;
  /** Which head keywords were written: needed for Rego v1's "`if`/`contains` keyword is required" checks. */
  keywords: { if: boolean; contains: boolean };
  /** The value `true` was implied (`p if ...`, `p { ... }`). */
  generatedValue?: true;
}

export interface Rule extends Node {
  default?: true;
  head: Head;
  body: Body;
  else?: Rule;
  /** The body `true` was implied (`p := 1`, `default p := 1`, `p contains 1`). */
  generatedBody?: true;
  annotations?: Annotations[];
}

export interface Package extends Node {
  /** [var data, string a, string b] for `package a.b`. */
  path: Term[];
}

export interface Import extends Node {
  path: RefTerm;
  alias?: string;
  /** Where the alias is written (`opa parse --json-include locations` prints it). */
  aliasLoc?: Location;
}

export type AnnotationScope = 'rule' | 'document' | 'package' | 'subpackages';

/** A `# METADATA` block: the known keys typed, everything else kept in `custom` as YAML gave it. */
export interface Annotations extends Node {
  scope: AnnotationScope;
  title?: string;
  description?: string;
  entrypoint?: boolean;
  organizations?: string[];
  custom?: Record<string, unknown>;
  /** The YAML object as written, for rego.metadata.* (which returns the annotation as a value). */
  raw: Record<string, unknown>;
}

export interface Comment extends Node { text: string }

export type RegoVersion = 'v0' | 'v1';

export interface Module extends Node {
  file: string;
  regoVersion: RegoVersion;
  package: Package;
  imports: Import[];
  rules: Rule[];
  annotations: Annotations[];
  comments: Comment[];
  /**
   * An ad-hoc query wrapped as a module (src/compiler/query.ts): checked as OPA checks queries, and, as OPA's
   * query is no rule, its rules are no part of the data document that the query (or anything else) reads.
   */
  query?: true;
}

export function isTerm(x: Expr['terms']): x is Term {
  return !Array.isArray(x) && x.type !== 'some' && x.type !== 'every' && x.type !== 'not'
    && x.type !== 'logicaland' && x.type !== 'logicalor';
}

