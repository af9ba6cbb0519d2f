// Rego terms and expressions as one line of text, written from the AST: the nodes of an explanation, the
// expressions a data filter refuses, and the residual queries and rules of `eval -p --format source` (which
// `verdict fmt`'s formatter then lays out). The formatter's own printer (format/terms.ts) works from the source
// text instead, to keep how literals were spelled.
import type { Body, Expr, Term } from './ast.js';
import { isTerm } from './ast.js';
import { callName } from './walk.js';
import { compareTerms } from './partial/ast-json.js';

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name Rego reads as one identifier (a var, or a ref segment written `.name`); keywords are not told apart. */
export function isIdentifier(name: string): boolean {
  return identifier.test(name);
}

/** A ref's string segment as Rego writes it after the head: `.name`, or `["a b"]` when it is no identifier. */
export function nameSegment(name: string): string {
  return isIdentifier(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** Rego's infix operators, by the name of the builtin each calls (`a + b` is plus(a, b)). */
export const INFIX_OPERATORS: Readonly<Record<string, string>> = {
  eq: '=', assign: ':=', equal: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=',
  plus: '+', minus: '-', mul: '*', div: '/', rem: '%', and: '&', or: '|',
};

export interface RegoTextStyle {
  /** A var's text; by default a wildcard (the parser's `$0`, `$1`, ...) is `_` and any other var its name. */
  varText?: (name: string) => string;
  /**
   * The calls written infix, by operator name, when they have two operands; `internal.member_3` (three operands)
   * is written `k, v in c`. Others are written `f(x, y)`.
   */
  infix?: Readonly<Record<string, string>>;
  /** Calls inside terms are written infix too, parenthesised where they are an infix call's operand. */
  nestedInfix?: boolean;
  /** An infix call with its output operand (`plus(a, b, x)`) is written `x = a + b`, as `opa eval -p` writes it. */
  infixOutput?: boolean;
  /**
   * A message's short form: a comprehension, a template string and an expression other than a call or a term
   * are named by their kind, and `with` modifiers are left off.
   */
  short?: boolean;
  /** The text a template string stands for; without it, one is refused. */
  templateString?: string;
  /** `a and b`, `a or b` are printed; without it, they are refused. */
  logical?: boolean;
  /** Refuses what the style cannot print (`what`: "template string", "logicalor expression"); throws by default. */
  refuse?: (what: string) => never;
}

function refuseByDefault(what: string): never {
  throw new Error(`internal: a ${what} cannot be printed as Rego`);
}

/** One style's printer of terms, expressions and bodies. */
export class RegoText {
  private readonly varText: (name: string) => string;
  private readonly infix: Readonly<Record<string, string>>;
  private readonly refuse: (what: string) => never;

  constructor(private readonly style: RegoTextStyle = {}) {
    this.varText = style.varText ?? ((name) => (name.startsWith('$') ? '_' : name));
    this.infix = style.infix ?? {};
    this.refuse = style.refuse ?? refuseByDefault;
  }

  term(t: Term): string {
    switch (t.type) {
      case 'null': return 'null';
      case 'boolean': return String(t.value);
      case 'number': return t.value;
      case 'string': return JSON.stringify(t.value);
      case 'var': return this.varText(t.value);
      case 'ref': return t.value.map((s, i) => (i === 0 ? this.term(s) : s.type === 'string' && isIdentifier(s.value) ? `.${s.value}` : `[${this.term(s)}]`)).join('');
      case 'array': return `[${t.value.map((x) => this.term(x)).join(', ')}]`;
      // OPA keeps a set's elements and an object's keys sorted, and prints them so.
      case 'set': return t.value.length === 0 ? 'set()' : `{${[...t.value].sort(compareTerms).map((x) => this.term(x)).join(', ')}}`;
      case 'object': return `{${[...t.value].sort(([a], [b]) => compareTerms(a, b)).map(([k, v]) => `${this.term(k)}: ${this.term(v)}`).join(', ')}}`;
      case 'call': return this.style.nestedInfix ? this.call(t.value) : this.prefixCall(t.value);
      case 'arraycomprehension': return this.style.short ? t.type : `[${this.term(t.value.term)} | ${this.body(t.value.body)}]`;
      case 'setcomprehension': return this.style.short ? t.type : `{${this.term(t.value.term)} | ${this.body(t.value.body)}}`;
      case 'objectcomprehension': return this.style.short ? t.type : `{${this.term(t.value.key)}: ${this.term(t.value.value)} | ${this.body(t.value.body)}}`;
      case 'templatestring': return this.style.short ? t.type : this.style.templateString ?? this.refuse('template string');
    }
  }

  /** A body's expressions on one line, separated by `; `. */
  body(body: Body): string {
    return body.map((e) => this.expr(e)).join('; ');
  }

  expr(e: Expr): string {
    const terms = e.terms;
    let text: string;
    if (Array.isArray(terms)) text = this.call(terms);
    else if (isTerm(terms)) text = this.term(terms);
    else if (this.style.short) text = terms.type;
    else if (terms.type === 'some') text = `some ${terms.symbols.map((s) => this.term(s)).join(', ')}`;
    else if (terms.type === 'every') text = `every ${terms.key ? `${this.term(terms.key)}, ` : ''}${this.term(terms.value)} in ${this.term(terms.domain)} { ${this.body(terms.body)} }`;
    else if (terms.type === 'not') text = `not { ${this.body(terms.body)} }`;
    else if (this.style.logical) text = `${this.body(terms.lhs)} ${terms.type === 'logicaland' ? 'and' : 'or'} ${this.body(terms.rhs)}`;
    else this.refuse(`${terms.type} expression`);
    if (!this.style.short) for (const w of e.with ?? []) text += ` with ${this.term(w.target)} as ${this.term(w.value)}`;
    return e.negated ? `not ${text}` : text;
  }

  /** An operator and its operands: infix where the style writes the operator so (`a = b`, `"x" in s`), else `f(a, b)`. */
  private call(terms: Term[]): string {
    const [op, ...args] = terms as [Term, ...Term[]];
    const output = this.style.infixOutput && args.length === 3 ? this.infixSymbol(op, 2) : undefined;
    if (output !== undefined && callName(op) !== 'internal.member_2') return `${this.term(args[2]!)} = ${this.operand(args[0]!)} ${output} ${this.operand(args[1]!)}`;
    const symbol = this.infixSymbol(op, args.length);
    if (symbol === undefined) return this.prefixCall(terms);
    const operands = args.map((a) => this.operand(a));
    return args.length === 3 ? `${operands[0]}, ${operands[1]} ${symbol} ${operands[2]}` : `${operands[0]} ${symbol} ${operands[1]}`;
  }

  private prefixCall(terms: Term[]): string {
    return `${this.term(terms[0]!)}(${terms.slice(1).map((a) => this.term(a)).join(', ')})`;
  }

  private infixSymbol(op: Term, operands: number): string | undefined {
    const name = callName(op);
    if (name === undefined) return undefined;
    const symbol = this.infix[name];
    return symbol !== undefined && operands === (name === 'internal.member_3' ? 3 : 2) ? symbol : undefined;
  }

  /** An infix call's operand; a nested call written infix is parenthesised (a formatter drops what is not needed). */
  private operand(t: Term): string {
    const text = this.term(t);
    return this.style.nestedInfix && t.type === 'call' && this.infixSymbol(t.value[0]!, t.value.length - 1) !== undefined ? `(${text})` : text;
  }
}
