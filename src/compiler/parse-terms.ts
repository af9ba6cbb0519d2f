// Expressions of Rego: bodies, literals (`some`, `every`, `not`, `with`, and/or), and terms with OPA's operator
// precedence, loosest first: `:=`/`=` (expression level only), `in`, relations (== != < > <= >=), `|`, `&`,
// `+ -`, `* / %`. Failed alternatives are retried by resetting the token index (save/restore), and parsed terms
// are memoised by position so that retries stay linear. Statements (package, import, rules) are in parser.ts.
import type { Body, Every, Expr, Location, LogicalExpr, RefTerm, SomeDecl, Term, With } from './ast.js';
import { isTerm } from './ast.js';
import type { Token } from './lexer.js';

export interface ParseErrorAt { message: string; offset: number; row: number; col: number }

interface Saved { pos: number; errors: number; wildcards: number; hints: readonly string[] }
interface Memo { term: Term | null; end: number; errors: readonly ParseErrorAt[]; wildcards: number }

const MAX_DEPTH = 1000;
const NO_HINTS: readonly string[] = [];

/** The future keywords written between two operands of a body expression, each with an example. */
const INFIX_FUTURE_KEYWORDS: Record<string, string> = { in: 'x in xs', and: 'x and y', or: 'x or y' };

const OPERATOR_NAMES: Record<string, string> = {
  '==': 'equal', '!=': 'neq', '<': 'lt', '>': 'gt', '<=': 'lte', '>=': 'gte', '|': 'or', '&': 'and',
  '+': 'plus', '-': 'minus', '*': 'mul', '/': 'div', '%': 'rem', '=': 'eq', ':=': 'assign',
};
const TOKEN_NAMES: Record<string, string> = { ...OPERATOR_NAMES, ';': ';', ',': ',', ':': ':', '.': '.' };
const RELATIONS = ['==', '!=', '<', '>', '<=', '>='];
/** The errors of a memoised term that had none (shared, never written to). */
const NO_ERRORS: readonly ParseErrorAt[] = [];
/** Left-associative binary operator levels, loosest first. */
const BINARY_LEVELS = [RELATIONS, ['|'], ['&'], ['+', '-'], ['*', '/', '%']];

export class ExpressionParser {
  pos = 0;
  errors: ParseErrorAt[] = [];
  keywords: Set<string>;
  /** `not { ... }` bodies and `not expr` as a NotBody (future.keywords.not, rego.v2). */
  notBodies = false;
  /**
   * Where an ad-hoc query's body begins (a source offset), or -1: the expressions of the body that begins there
   * may also stand side by side on one line (`1 1`, `x := 1 x`), each a statement of its own, as OPA reads a
   * query. Bodies inside it still need a newline or `;`.
   */
  queryBodyAt = -1;
  private wildcards = 0;
  private depth = 0;
  /**
   * Set where a ref broke off at whitespace after a dot (`input. x`): OPA's scanner then stands on a whitespace
   * token, so errors reported there before the next token name "whitespace" at its place.
   */
  private whitespace: { pos: number; at: Location } | undefined;
  private memo = new Map<number, Memo>();
  /** Hints for the next error (OPA's parser hints), written after its message: `(hint: ...)`. */
  private hints: string[] = [];
  /**
   * The token at which a keyword directly followed by `.` or `[` starts a ref as a var (`if.x`, `null[0]`): the
   * start of a literal, a package or import path, a rule head. Elsewhere OPA reads the keyword as itself, so
   * `x := null[0]` is an illegal ref (head cannot be null) and `[if.x]` an unexpected keyword.
   */
  protected keywordHeadAt = -1;
  /** Keyword-headed refs everywhere (ParseOptions.generatedFromQuery). */
  keywordRefHeadsAnywhere = false;
  /** `$"..."` is read (the template_strings capability); without it a template string is an error. */
  templateStrings = true;
  /** A keyword may follow a ref's dot (`input.in`: the keywords_in_refs capability); without it, it may not. */
  keywordsInRefs = true;

  constructor(
    readonly file: string,
    readonly src: string,
    readonly tokens: Token[],
    keywords: string[],
  ) {
    this.keywords = new Set(keywords);
  }

  // ---- token helpers ----
  get tok(): Token {
    return this.tokens[this.pos];
  }
  peek(n = 1): Token {
    return this.tokens[Math.min(this.pos + n, this.tokens.length - 1)];
  }
  next(): void {
    if (this.pos < this.tokens.length - 1) this.pos++;
  }
  is(p: string): boolean {
    return this.tok.kind === 'punct' && this.tok.text === p;
  }
  /** The current token is keyword `k` (an ident that is a keyword in the current keyword set). */
  kw(k: string): boolean {
    return this.tok.kind === 'ident' && this.tok.text === k && this.keywords.has(k)
      && (k === 'in' || k === 'as' || !this.isKeywordRefHead());
  }
  isKeywordToken(t: Token): boolean {
    return t.kind === 'ident' && this.keywords.has(t.text);
  }
  /** A plain identifier; `contains` counts as one outside rule heads (as in OPA). */
  isIdent(t: Token = this.tok): boolean {
    return t.kind === 'ident' && (!this.keywords.has(t.text) || t.text === 'contains');
  }
  /** Keywords may start a ref when directly followed by `.` or `[` (`input.if`, `if.x` as a var head). */
  isKeywordRefHead(): boolean {
    const n = this.peek();
    return this.isKeywordToken(this.tok) && !n.ws && n.kind === 'punct' && (n.text === '.' || n.text === '[');
  }
  loc(t: Token = this.tok): Location {
    return { file: this.file, row: t.row, col: t.col, offset: t.offset, end: t.end };
  }
  /** Location from token `from` to the end of the previous token. */
  span(from: Location): Location {
    const prev = this.tokens[Math.max(0, this.pos - 1)];
    return { ...from, end: Math.max(from.end, prev.end) };
  }
  save(): Saved {
    return { pos: this.pos, errors: this.errors.length, wildcards: this.wildcards, hints: this.hints.length === 0 ? NO_HINTS : [...this.hints] };
  }
  restore(s: Saved): void {
    this.whitespace = undefined;
    this.pos = s.pos;
    this.errors.length = s.errors;
    this.wildcards = s.wildcards;
    this.hints = s.hints.length === 0 ? [] : [...s.hints];
  }

  // ---- errors ----
  error(at: Location | Token, message: string): void {
    const hints = this.hints.length === 0 ? '' : ` (${this.hints.length === 1 ? 'hint' : 'hints'}: ${this.hints.join(', ')})`;
    this.hints = [];
    this.errors.push({ message: message + hints, offset: at.offset, row: at.row, col: at.col });
  }

  private hint(text: string): void {
    this.hints.push(text);
  }

  /**
   * Runs `f` as OPA's "future parser" reads ahead: with the future keywords given active (and terms memoised
   * apart, as they read differently), then goes back to where it was.
   */
  private lookAhead<T>(keywords: string[], f: () => T): T {
    const saved = { keywords: this.keywords, memo: this.memo, at: this.save() };
    this.keywords = new Set([...this.keywords, ...keywords]);
    this.memo = new Map();
    try {
      return f();
    } finally {
      this.keywords = saved.keywords;
      this.memo = saved.memo;
      this.restore(saved.at);
    }
  }

  /** Whether a term (read ahead) is a membership: `x in xs` or `k, v in xs`. */
  private isMembership(term: Term | null): boolean {
    const op = term?.type === 'call' ? operatorName(term) : '';
    return op === 'internal.member_2' || op === 'internal.member_3';
  }

  /**
   * Before the error at the end of a body expression: a plain `in`, `and` or `or` there, or the comma of
   * `k, v in xs`, most likely misses its future keyword import (OPA's hint, unless another one is pending).
   */
  private hintMissingInfixKeyword(): void {
    if (this.hints.length > 0) return;
    let kw: string;
    if (this.tok.kind === 'ident' && !this.isKeywordToken(this.tok) && Object.hasOwn(INFIX_FUTURE_KEYWORDS, this.tok.text)) kw = this.tok.text;
    else if (this.is(',') && this.lookAhead(['in'], () => {
      this.next();
      return this.isMembership(this.parseTermInfixCall());
    })) kw = 'in';
    else return;
    this.hint(`\`import future.keywords.${kw}\` for \`${INFIX_FUTURE_KEYWORDS[kw]}\` expressions`);
  }
  tokenName(t: Token): string {
    switch (t.kind) {
      case 'ident': return this.keywords.has(t.text) ? t.text : 'identifier';
      case 'number': return 'number';
      case 'string': return 'string';
      case 'template': return t.raw ? (t.last ? 'raw-template-string-end' : 'raw-template-string-part')
        : t.last ? 'template-string-end' : 'template-string-part';
      case 'eof': return 'eof';
      case 'illegal': return 'illegal';
      default: return TOKEN_NAMES[t.text] ?? t.text;
    }
  }
  /** Where the parser stands: the current token, or the whitespace a ref broke off at. */
  here(): Location {
    return this.whitespace?.pos === this.pos ? this.whitespace.at : this.loc();
  }
  /** OPA's "unexpected <token> token: <note>". */
  illegal(note = ''): void {
    const t = this.tok;
    if (this.whitespace?.pos === this.pos) {
      this.error(this.whitespace.at, `unexpected whitespace token${note ? `: ${note}` : ''}`);
      return;
    }
    if (t.kind === 'illegal') {
      this.error(t, 'illegal token');
      return;
    }
    const kind = this.isKeywordToken(t) ? 'keyword' : 'token';
    this.error(t, `unexpected ${this.tokenName(t)} ${kind}${note ? `: ${note}` : ''}`);
  }
  private enter(): boolean {
    if (++this.depth > MAX_DEPTH) {
      this.depth--;
      this.error(this.tok, 'max parsing recursion depth exceeded');
      return false;
    }
    return true;
  }
  private leave(): void {
    this.depth--;
  }
  private guarded<T>(f: () => T | null): T | null {
    if (!this.enter()) return null;
    try {
      return f();
    } finally {
      this.leave();
    }
  }

  // ---- bodies and literals ----
  parseBody(end: '}' | ']'): Body | null {
    return this.guarded(() => this.parseQuery(false, end));
  }

  /** Literals separated by `;` or newlines, up to `end`; a top-level statement (requireSemi) takes one line. */
  parseQuery(requireSemi: boolean, end: '}' | ']' | 'eof'): Body | null {
    const atEnd = () => (end === 'eof' ? this.tok.kind === 'eof' : this.is(end));
    const sideBySide = this.tok.offset === this.queryBodyAt;
    if (atEnd()) {
      this.error(this.tok, 'found empty body');
      return null;
    }
    const body: Body = [];
    for (;;) {
      const expr = this.parseLiteral();
      if (!expr) return null;
      expr.index = body.length;
      body.push(expr);
      if (this.is(';')) {
        this.next();
        continue;
      }
      if (atEnd() || requireSemi) return body;
      if (!this.tok.nl && !sideBySide) {
        // As OPA: not piled onto an error already found (`1 +* 2` stops at the `*` it could not read).
        if (this.errors.length === 0) {
          this.hintMissingInfixKeyword();
          this.illegal(`expected \\n or ; or ${end === 'eof' ? 'eof' : end}`);
        }
        return null;
      }
    }
  }

  parseLiteral(): Expr | null {
    const start = this.loc();
    const expr = this.parseLiteralInner();
    if (expr) expr.loc = this.span(start);
    return expr;
  }

  private logicalActive(): boolean {
    return this.keywords.has('and') || this.keywords.has('or');
  }

  private parseLiteralInner(): Expr | null {
    if (this.logicalActive()) return this.parseLogicalOr();
    return this.parseLiteralOperand();
  }

  /** `a or b or c`, with `and` binding tighter; each side is a one-literal body unless written as `{ ... }`. */
  private parseLogicalOr(): Expr | null {
    const start = this.loc();
    let lhs = this.parseLogicalAnd();
    while (lhs && this.kw('or')) {
      this.next();
      const rhs = this.parseLogicalAnd(true);
      if (!rhs) return null;
      lhs = this.logical('logicalor', lhs, rhs, start);
    }
    return lhs && this.attachWith(lhs[0]);
  }

  private parseLogicalAnd(afterOperator = false): Body | null {
    const start = this.loc();
    let lhs = this.parseLogicalOperand(afterOperator);
    while (lhs && this.kw('and')) {
      this.next();
      const rhs = this.parseLogicalOperand(true);
      if (!rhs) return null;
      lhs = this.logical('logicaland', lhs, rhs, start);
    }
    return lhs;
  }

  private logical(type: LogicalExpr['type'], lhs: Body, rhs: Body, start: Location): Body {
    const loc = this.span(start);
    return [{ index: 0, terms: { type, lhs, rhs, loc }, loc }];
  }

  /**
   * An operand of and/or as a body: `{ body }`, `( logical )`, or one literal. At the start of a literal, braces
   * are a body only if an and/or follows (otherwise they are a set or object term).
   */
  private parseLogicalOperand(afterOperator: boolean): Body | null {
    const start = this.loc();
    if (this.is('{')) {
      const s = this.save();
      this.next();
      const body = this.parseBody('}');
      if (body) {
        this.next();
        if (afterOperator || this.kw('and') || this.kw('or')) return body;
      }
      this.restore(s);
    }
    if (this.is('(')) {
      const s = this.save();
      this.next();
      const inner = this.parseLogicalOr();
      if (inner && this.is(')')) {
        this.next();
        // Parens group an and/or operand only when they hold one or one follows; else they are a term's.
        if (isLogical(inner) || this.kw('and') || this.kw('or')) {
          inner.loc = this.span(start);
          return [inner];
        }
      }
      this.restore(s);
    }
    const expr = this.parseLiteralOperand();
    if (!expr) return null;
    expr.loc = this.span(start);
    return [expr];
  }

  private parseLiteralOperand(): Expr | null {
    const start = this.loc();
    this.keywordHeadAt = this.pos;
    if (this.isKeywordRefHead()) return this.parseLiteralExpr(false, start);
    const negated = this.kw('not');
    if (negated) this.next();
    if (negated && this.notBodies && this.is('{')) {
      this.next();
      const body = this.parseBody('}');
      if (!body) return null;
      this.next();
      const loc = this.span(start);
      return this.attachWith({ index: 0, terms: { type: 'not', body, explicitBody: true, loc }, loc });
    }
    if (negated && this.notBodies && this.is('(') && this.logicalActive()) {
      const s = this.save();
      this.next();
      const inner = this.parseLogicalOr();
      if (inner && this.is(')')) {
        this.next();
        const loc = this.span(start);
        return this.attachWith({ index: 0, terms: { type: 'not', body: [inner], explicitBody: false, loc }, loc });
      }
      this.restore(s);
    }
    if (this.kw('some')) {
      if (negated) {
        this.illegal("illegal negation of 'some'");
        return null;
      }
      return this.parseSome();
    }
    if (this.kw('every')) {
      if (negated) {
        this.illegal("illegal negation of 'every'");
        return null;
      }
      return this.parseEvery();
    }
    return this.parseLiteralExpr(negated, start);
  }

  private parseLiteralExpr(negated: boolean, start: Location): Expr | null {
    const at = this.save();
    const expr = this.parseExpr();
    if (!expr) return null;
    // With and/or in use, `with` after the last operand applies to the whole and/or (parseLogicalOr takes it).
    if (this.kw('with') && !this.logicalActive()) {
      const withs = this.parseWith();
      if (!withs) return null;
      expr.with = withs;
    }
    // A plain `every` that reads as an `every` expression with the keyword imported most likely misses that.
    const t = expr.terms;
    if (!this.keywords.has('every') && isTerm(t) && t.type === 'var' && t.value === 'every') {
      const every = this.lookAhead(['every', 'in'], () => {
        this.restore(at);
        return this.parseEvery() !== null;
      });
      if (every) this.hint('`import future.keywords.every` for `every x in xs { ... }` expressions');
    }
    if (negated && this.notBodies) {
      const withs = expr.with;
      delete expr.with;
      const loc = this.span(start);
      const not: Expr = { index: 0, terms: { type: 'not', body: [expr], explicitBody: false, loc }, loc };
      if (withs) not.with = withs;
      return not;
    }
    if (negated) expr.negated = true;
    return expr;
  }

  private attachWith(e: Expr): Expr | null {
    if (!this.kw('with')) return e;
    const withs = this.parseWith();
    if (!withs) return null;
    e.with = withs;
    return e;
  }

  private parseWith(): With[] | null {
    const withs: With[] = [];
    while (this.kw('with')) {
      const loc = this.loc();
      this.next();
      if (!this.isIdent()) {
        this.illegal('expected ident');
        return null;
      }
      const target = this.parseTerm();
      if (!target) return null;
      if (target.type !== 'ref' && target.type !== 'var') {
        this.illegal('expected with target path');
        return null;
      }
      if (!this.kw('as')) {
        this.illegal('expected as keyword');
        return null;
      }
      this.next();
      const value = this.parseTermInfixCall();
      if (!value) return null;
      withs.push({ target, value, loc: this.span(loc) });
    }
    return withs;
  }

  private parseSome(): Expr | null {
    const loc = this.loc();
    const s = this.save();
    this.next();
    const term = this.parseTermInfixCall();
    if (term && term.type === 'call') {
      const op = operatorName(term);
      if (op !== 'internal.member_2' && op !== 'internal.member_3') {
        this.illegal('expected `x in xs` or `x, y in xs` expression');
        return null;
      }
      const decl: SomeDecl = { type: 'some', symbols: [term], loc: this.span(loc) };
      return this.attachWith({ index: 0, terms: decl, loc: decl.loc });
    }
    // `some x in xs` without `in` imported: most likely the import is missing.
    const membership = !this.keywords.has('in') && this.lookAhead(['in'], () => {
      this.restore(s);
      this.next();
      return this.isMembership(this.parseTermInfixCall());
    });
    this.restore(s);
    if (membership) this.hint('`import future.keywords.in` for `some x in xs` expressions');
    const symbols: Term[] = [];
    for (;;) {
      this.next();
      if (!this.isIdent()) {
        this.illegal('expected var');
        return null;
      }
      symbols.push({ type: 'var', value: this.varName(), loc: this.loc() });
      this.next();
      if (!this.is(',')) break;
    }
    const decl: SomeDecl = { type: 'some', symbols, loc: this.span(loc) };
    return { index: 0, terms: decl, loc: decl.loc };
  }

  private parseEvery(): Expr | null {
    const loc = this.loc();
    this.next();
    const term = this.parseTermInfixCall();
    if (!term) return null;
    const op = term.type === 'call' ? operatorName(term) : '';
    if (term.type !== 'call' || (op !== 'internal.member_2' && op !== 'internal.member_3')) {
      this.illegal('expected `x[, y] in xs { ... }` expression');
      return null;
    }
    const args = term.value.slice(1);
    const [key, value, domain] = args.length === 3 ? args : [null, args[0], args[1]];
    if (key && key.type !== 'var') {
      this.illegal('expected key to be a variable');
      return null;
    }
    if (value.type !== 'var') {
      this.illegal('expected value to be a variable');
      return null;
    }
    if (!this.is('{')) {
      this.illegal('missing body');
      return null;
    }
    this.next();
    const body = this.parseBody('}');
    if (!body) return null;
    this.next();
    const every: Every = { type: 'every', key, value, domain, body, loc: this.span(loc) };
    return this.attachWith({ index: 0, terms: every, loc: every.loc });
  }

  parseExpr(): Expr | null {
    const start = this.loc();
    const lhs = this.parseTermInfixCall();
    if (!lhs) return null;
    if (this.is(':=') || this.is('=')) {
      const op = this.operator(OPERATOR_NAMES[this.tok.text]);
      this.next();
      const rhs = this.parseTermInfixCall();
      if (!rhs) return null;
      return { index: 0, terms: [op, lhs, rhs], loc: this.span(start) };
    }
    if (lhs.type === 'call') return { index: 0, terms: lhs.value, loc: this.span(start) };
    return { index: 0, terms: lhs, loc: this.span(start) };
  }

  // ---- terms with operators ----
  private operator(name: string, at: Token = this.tok): RefTerm {
    const loc = this.loc(at);
    const parts = name.split('.');
    return {
      type: 'ref',
      value: parts.map((p, i): Term => (i === 0 ? { type: 'var', value: p, loc } : { type: 'string', value: p, loc })),
      loc,
    };
  }

  private call(op: RefTerm, args: Term[], start: Location): Term {
    return { type: 'call', value: [op, ...args], loc: this.span(start) };
  }

  parseTermInfixCall(): Term | null {
    return this.guarded(() => this.parseTermIn(true));
  }

  private parseTermInfixCallInList(): Term | null {
    return this.guarded(() => this.parseTermIn(false));
  }

  /** `x in xs` and (keyVal) `k, v in xs`; chains left to right. */
  private parseTermIn(keyVal: boolean): Term | null {
    const start = this.loc();
    let lhs = this.parseTermRelation();
    if (!lhs) return null;
    if (keyVal && this.is(',')) {
      const s = this.save();
      this.next();
      const mhs = this.parseTermRelation();
      if (mhs && this.kw('in')) {
        const op = this.operator('internal.member_3');
        this.next();
        const rhs = this.parseTermRelation();
        if (rhs) lhs = this.call(op, [lhs, mhs, rhs], start);
        else this.restore(s);
      } else this.restore(s);
    }
    // `in` directly followed by `.` or `[` starts a ref (`in.foo`), as OPA's scan-ahead decides, not a membership.
    while (this.kw('in') && !this.isKeywordRefHead()) {
      const op = this.operator('internal.member_2');
      this.next();
      const rhs = this.parseTermRelation();
      // As OPA: a missing right-hand side leaves its error and the left-hand side stands.
      if (!rhs) return lhs;
      lhs = this.call(op, [lhs, rhs], start);
    }
    return lhs;
  }

  /** Left-associative binary levels, tightest last. */
  private parseBinary(level: number): Term | null {
    if (level >= BINARY_LEVELS.length) return this.parseTerm();
    // guarded() spelled out: every term passes through all levels, and a closure per level adds up.
    if (!this.enter()) return null;
    try {
      // Its start location is only built when an operator follows.
      const startTok = this.tok;
      let lhs = this.parseBinary(level + 1);
      if (!lhs) return null;
      while (this.tok.kind === 'punct' && BINARY_LEVELS[level].includes(this.tok.text)) {
        const op = this.operator(OPERATOR_NAMES[this.tok.text]);
        this.next();
        const rhs = this.parseBinary(level + 1);
        // As OPA: a missing right operand leaves its error and the left operand stands.
        if (!rhs) return lhs;
        lhs = this.call(op, [lhs, rhs], this.loc(startTok));
      }
      return lhs;
    } finally {
      this.leave();
    }
  }

  private parseTermRelation(): Term | null {
    return this.parseBinary(0);
  }

  // ---- terms ----
  /**
   * A single term with its ref/call suffix. A keyword directly followed by `.` or `[` is a var (`if.x`) where
   * keywordHeadAt allows it.
   */
  parseTerm(): Term | null {
    // A term at a token is memoised once as a keyword-headed ref and once as read elsewhere.
    const at = this.pos === this.keywordHeadAt ? -1 - this.pos : this.pos;
    const cached = this.memo.get(at);
    if (cached) {
      this.pos = cached.end;
      if (cached.errors.length > 0) this.errors.push(...cached.errors);
      this.wildcards = cached.wildcards;
      return cached.term;
    }
    const errorsBefore = this.errors.length;
    const term = this.guarded(() => this.parseTermUncached());
    const errors = this.errors.length > errorsBefore ? this.errors.slice(errorsBefore) : NO_ERRORS;
    this.memo.set(at, { term, end: this.pos, errors, wildcards: this.wildcards });
    return term;
  }

  private parseTermUncached(): Term | null {
    const t = this.tok;
    const loc = this.loc();
    let term: Term | null = null;
    let minusAt: Location | undefined;
    const minusTok = t;
    if (t.kind === 'ident' && this.keywords.has(t.text) && t.text !== 'contains' && !((this.keywordRefHeadsAnywhere || this.pos === this.keywordHeadAt) && this.isKeywordRefHead())) {
      if (t.text === 'null') term = { type: 'null', loc };
      else if (t.text === 'true' || t.text === 'false') term = { type: 'boolean', value: t.text === 'true', loc };
      else {
        this.illegal();
        return null;
      }
      this.next();
    } else if (t.kind === 'ident') {
      term = { type: 'var', value: this.varName(), loc };
      this.next();
    } else if (t.kind === 'number' || (t.kind === 'punct' && t.text === '.')) {
      term = this.parseNumber('');
    } else if (t.kind === 'punct' && t.text === '-') {
      const n = this.peek();
      if (this.isIdent(n)) {
        minusAt = loc;
        this.next();
        term = { type: 'var', value: this.varName(), loc: this.loc() };
        this.next();
      } else {
        this.next();
        term = this.parseNumber('-', loc);
      }
    } else if (t.kind === 'string') {
      term = { type: 'string', value: t.value ?? '', loc };
      this.next();
    } else if (t.kind === 'template') {
      term = this.parseTemplateString();
    } else if (this.is('[')) {
      term = this.parseArray();
    } else if (this.is('{')) {
      term = this.parseSetOrObject();
    } else if (this.is('(')) {
      this.next();
      const inner = this.parseTermInfixCall();
      if (!inner) return null;
      if (!this.is(')')) {
        this.error(this.tok, 'non-terminated expression');
        return null;
      }
      this.next();
      term = inner;
    } else {
      this.illegal();
      return null;
    }
    if (!term) return null;
    term = this.parseTermFinish(term);
    if (term && minusAt) {
      const zero: Term = { type: 'number', value: '0', loc: minusAt };
      term = this.call(this.operator('minus', minusTok), [zero, term], minusAt);
    }
    return term;
  }

  private parseTermFinish(head: Term): Term | null {
    const t = this.tok;
    if (!t.ws && t.kind === 'punct' && (t.text === '(' || t.text === '.' || t.text === '[')) return this.parseRef(head);
    if (head.type === 'var' && (head.value === 'data' || head.value === 'input')) return { type: 'ref', value: [head], loc: head.loc };
    return head;
  }

  /** head followed by `.x`, `[t]` and `(args)` with no space before each. */
  parseRef(head: Term): Term | null {
    return this.guarded(() => {
      const start = head.loc;
      const okHead = ['var', 'array', 'object', 'set', 'arraycomprehension', 'objectcomprehension', 'setcomprehension', 'call'];
      if (!okHead.includes(head.type)) this.error(head.loc, `illegal ref (head cannot be ${valueName(head)})`);
      const ref: Term[] = [head];
      let first = true;
      for (;;) {
        const t = this.tok;
        if (t.kind !== 'punct' || (t.ws && !first)) break;
        first = false;
        if (t.text === '.') {
          this.next();
          const id = this.tok;
          if (id.ws) {
            // OPA sees the whitespace itself, right after the dot (column 0 when it is the line break).
            const lineBreak = this.src[t.end] === '\n';
            const at = { ...this.loc(t), row: t.row + (lineBreak ? 1 : 0), col: lineBreak ? 0 : t.col + 1, offset: t.end };
            this.whitespace = { pos: this.pos, at };
            this.illegal('expected identifier');
            return null;
          }
          if (id.kind !== 'ident' || (!this.keywordsInRefs && this.isKeywordToken(id))) {
            this.illegal('expected identifier');
            return null;
          }
          ref.push({ type: 'string', value: id.text, loc: this.loc() });
          this.next();
        } else if (t.text === '[') {
          this.next();
          const inner = this.parseTermInfixCall();
          if (!inner) return null;
          if (!this.is(']')) {
            this.illegal('expected [');
            return null;
          }
          ref.push(inner);
          this.next();
        } else if (t.text === '(') {
          const op: Term = ref.length === 1 && ref[0].type === 'ref' ? ref[0] : { type: 'ref', value: ref.slice(), loc: this.span(start) };
          this.next();
          let call: Term;
          if (this.is(')')) {
            this.next();
            const isSet = op.type === 'ref' && op.value.length === 1 && op.value[0].type === 'var' && op.value[0].value === 'set';
            call = isSet ? { type: 'set', value: [], loc: this.span(start) } : { type: 'call', value: [op], loc: this.span(start) };
          } else {
            const args = this.parseTermList(')');
            if (!args) return null;
            this.next();
            call = { type: 'call', value: [op, ...args], loc: this.span(start) };
          }
          const n = this.tok;
          if (!n.ws && n.kind === 'punct' && (n.text === '.' || n.text === '[')) return this.parseRef(call);
          return call;
        } else break;
      }
      if (ref.length === 1) return head.type === 'var' && (head.value === 'data' || head.value === 'input') ? { type: 'ref', value: ref, loc: start } : head;
      return { type: 'ref', value: ref, loc: this.span(start) };
    });
  }

  private parseNumber(prefix: string, start: Location = this.loc()): Term | null {
    let text = prefix;
    if (this.is('.')) {
      text += '.';
      this.next();
    }
    const t = this.tok;
    if (t.kind !== 'number' || (text.endsWith('.') && t.ws)) {
      this.illegal('expected number');
      return null;
    }
    if (!text.endsWith('.') && t.text.length > 1 && t.text[0] === '0' && t.text[1] !== '.' && !(t.text.length > 2 && /[eE]/.test(t.text[1]))) {
      this.illegal('expected number without leading zero');
      return null;
    }
    text += t.text;
    const problem = numberProblem(text);
    if (problem === 'too big') {
      this.error(t, 'number too big');
      return null;
    }
    if (problem) {
      this.illegal(problem);
      return null;
    }
    this.next();
    return { type: 'number', value: text, loc: this.span(start) };
  }

  private parseTemplateString(): Term | null {
    const start = this.loc();
    if (!this.templateStrings) {
      this.error(this.tok, 'template strings are not supported by current capabilities');
      return null;
    }
    const multiLine = !!this.tok.raw;
    const parts: (Term | Expr)[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'template') {
        this.illegal();
        return null;
      }
      if (t.value) parts.push({ type: 'string', value: t.value, loc: this.loc() });
      if (t.last) {
        this.next();
        break;
      }
      this.next();
      const expr = this.parseLiteral();
      if (!expr) {
        this.error(this.tok, 'invalid template-string expression');
        return null;
      }
      const problem = templateExprProblem(expr);
      if (problem) {
        this.error(expr.loc, problem);
        return null;
      }
      if (isTerm(expr.terms) && ['string', 'number', 'boolean', 'null'].includes(expr.terms.type)) parts.push(expr.terms);
      else parts.push(expr);
      if (!this.is('}')) {
        this.error(this.tok, 'expected } to end template string expression');
        return null;
      }
      this.next();
    }
    return { type: 'templatestring', value: { parts, multiLine }, loc: this.span(start) };
  }

  private parseArray(): Term | null {
    const start = this.loc();
    this.next();
    if (this.is(']')) {
      this.next();
      return { type: 'array', value: [], loc: this.span(start) };
    }
    let comprehension = true;
    if (this.is(',')) {
      comprehension = false;
      this.next();
    }
    const s = this.save();
    const head = this.parseTerm();
    if (!head) return null;
    if (this.is(']')) {
      this.next();
      return { type: 'array', value: [head], loc: this.span(start) };
    }
    if (this.is('|') && comprehension) {
      this.next();
      const body = this.parseBody(']');
      if (body) {
        this.next();
        return { type: 'arraycomprehension', value: { term: head, body }, loc: this.span(start) };
      }
      if (!this.is(',')) return null;
    }
    this.restore(s);
    const terms = this.parseTermList(']');
    if (!terms) return null;
    this.next();
    return { type: 'array', value: terms, loc: this.span(start) };
  }

  private parseSetOrObject(): Term | null {
    const start = this.loc();
    this.next();
    if (this.is('}')) {
      this.next();
      return { type: 'object', value: [], loc: this.span(start) };
    }
    let comprehension = true;
    if (this.is(',')) {
      comprehension = false;
      this.next();
    }
    const s = this.save();
    const head = this.parseTerm();
    if (!head) return null;
    if (this.is('|') && comprehension) {
      const sc = this.save();
      this.next();
      const body = this.parseBody('}');
      if (body) {
        this.next();
        return { type: 'setcomprehension', value: { term: head, body }, loc: this.span(start) };
      }
      if (!this.is(',')) return null;
      this.restore(sc);
      this.restore(s);
      return this.finishSet(start);
    }
    if (this.is('}') || this.is(',')) {
      this.restore(s);
      return this.finishSet(start);
    }
    if (this.is(':')) return this.parseObject(start, head, comprehension);
    this.restore(s);
    const key = this.parseTermInfixCallInList();
    if (!key) return null;
    if (this.is('}') || this.is(',')) {
      this.restore(s);
      return this.finishSet(start);
    }
    if (this.is(':')) return this.parseObject(start, key, comprehension);
    this.illegal('non-terminated set');
    return null;
  }

  private finishSet(start: Location): Term | null {
    const terms = this.parseTermList('}');
    if (!terms) return null;
    this.next();
    return { type: 'set', value: terms, loc: this.span(start) };
  }

  private parseObject(start: Location, key: Term, comprehension: boolean): Term | null {
    this.next(); // ':'
    const s = this.save();
    const value = this.parseTerm();
    if (!value) return null;
    if (comprehension && this.is('|')) {
      this.next();
      const body = this.parseBody('}');
      if (body) {
        this.next();
        return { type: 'objectcomprehension', value: { key, value, body }, loc: this.span(start) };
      }
      return null;
    }
    this.restore(s);
    const v = this.parseTermInfixCallInList();
    if (!v) return null;
    const pairs: [Term, Term][] = [[key, v]];
    if (this.is('}')) {
      this.next();
      return { type: 'object', value: pairs, loc: this.span(start) };
    }
    if (!this.is(',')) {
      this.illegal('non-terminated object');
      return null;
    }
    this.next();
    while (!this.is('}')) {
      const k = this.parseTermInfixCallInList();
      if (!k) return null;
      if (!this.is(':')) {
        this.illegal('expected ":"');
        return null;
      }
      this.next();
      const val = this.parseTermInfixCallInList();
      if (!val) return null;
      pairs.push([k, val]);
      if (this.is('}')) break;
      if (!this.is(',')) {
        this.illegal('expected "," or "}"');
        return null;
      }
      this.next();
    }
    this.next();
    return { type: 'object', value: pairs, loc: this.span(start) };
  }

  /** Comma-separated terms up to `end` (not consumed); a trailing comma is allowed. */
  private parseTermList(end: string): Term[] | null {
    const terms: Term[] = [];
    while (!this.is(end)) {
      const term = this.parseTermInfixCallInList();
      if (!term) return null;
      terms.push(term);
      if (this.is(end)) break;
      if (!this.is(',')) {
        this.illegal(`expected "," or "${end}"`);
        return null;
      }
      this.next();
    }
    return terms;
  }

  protected varName(): string {
    return this.tok.text === '_' ? this.wildcard() : this.tok.text;
  }

  protected wildcard(): string {
    return `$${this.wildcards++}`;
  }
}

function isLogical(e: Expr): boolean {
  return !isTerm(e.terms) && !Array.isArray(e.terms) && (e.terms.type === 'logicalor' || e.terms.type === 'logicaland');
}

export function operatorName(call: Term): string {
  if (call.type !== 'call') return '';
  const op = call.value[0];
  if (op.type !== 'ref') return '';
  return op.value.map((t, i) => (i === 0 && t.type === 'var' ? t.value : t.type === 'string' ? t.value : '?')).join('.');
}

export function valueName(t: Term): string {
  switch (t.type) {
    case 'arraycomprehension': return 'arraycomprehension';
    case 'setcomprehension': return 'setcomprehension';
    case 'objectcomprehension': return 'objectcomprehension';
    case 'templatestring': return 'templatestring';
    default: return t.type;
  }
}

export function isGround(t: Term): boolean {
  switch (t.type) {
    case 'var': return false;
    case 'ref': case 'array': case 'set': case 'call': return t.value.every(isGround);
    case 'object': return t.value.every(([k, v]) => isGround(k) && isGround(v));
    case 'arraycomprehension': case 'setcomprehension': case 'objectcomprehension': return false;
    case 'templatestring': return false;
    default: return true;
  }
}

/** Why a number literal is not acceptable, in OPA's words, or undefined. */
function numberProblem(text: string): string | undefined {
  const m = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return 'invalid float';
  const intDigits = m[1].replace(/^0+/, '');
  const fracDigits = m[2] ?? '';
  const exp = Number(m[3] ?? '0');
  // Decimal magnitude of the leading significant digit; OPA rejects binary exponents beyond 1e5 (≈ 30103 decimal).
  let magnitude: number;
  if (intDigits.length > 0) magnitude = intDigits.length - 1 + exp;
  else {
    const lead = fracDigits.search(/[1-9]/);
    if (lead < 0) return undefined;
    magnitude = -(lead + 1) + exp;
  }
  return Math.abs(magnitude) > 30102 || !Number.isFinite(exp) ? 'too big' : undefined;
}

function templateExprProblem(expr: Expr): string | undefined {
  if (expr.negated) return "unexpected negation ('not') in template-string expression";
  if (Array.isArray(expr.terms)) {
    const op = expr.terms[0];
    const name = op.type === 'ref' && op.value.length === 1 && op.value[0].type === 'var' ? op.value[0].value : '';
    if (name === 'eq') return "unexpected unification ('=') in template-string expression";
    if (name === 'assign') return "unexpected assignment (':=') in template-string expression";
  } else if (!isTerm(expr.terms)) {
    if (expr.terms.type === 'every') return "unexpected 'every' in template-string expression";
    if (expr.terms.type === 'some') return "unexpected 'some' in template-string expression";
  }
  return undefined;
}


