// Rego terms and expressions back to source text, in `opa fmt`'s canonical spelling: infix operators spaced,
// nested infix calls parenthesised, `_` for wildcards, strings and numbers as written, composites on one line
// unless their elements were written on several.
import type { Body, Expr, Term, With } from '../ast.js';
import { isTerm } from '../ast.js';
import type { CommentQueue } from './comments.js';
import { KEYWORDS_V1 } from '../parser.js';
import { goQuoteInner } from './go-quote.js';
import { forEachVar } from '../walk.js';
import { INFIX_OPERATORS, isIdentifier } from '../rego-text.js';


/** An element of a composite: its (first) term, its printer at an indent, and an object entry's value. */
type CompositeElement = [Term, (indent: number) => string, Term?];

/** A number literal's value as sign, significant digits and exponent: 3.5, 3.50 and 35e-1 give one key. */
function numberKey(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  let digits = (m[2] + (m[3] ?? '')).replace(/^0+/, '');
  let exponent = Number(m[4] ?? 0) - (m[3] ?? '').length;
  if (digits === '') return '0';
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${m[1]}${digits}e${exponent}`;
}

function holdsGeneratedVar(t: Term): boolean {
  let found = false;
  forEachVar(t, (v) => {
    if (v.value.startsWith('__local')) found = true;
  });
  return found;
}

/** Prints terms and bodies of one module; needs the source for literal spellings and line positions. */
export class TermPrinter {

  private readonly lineStarts: number[];

  constructor(readonly source: string, readonly comments: CommentQueue, readonly v1: boolean, readonly keywordsInRefs = true) {
    this.lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** The 1-based row of a source offset. */
  rowOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The row a term's text ends on. */
  endRow(t: { loc: { offset: number; end: number } }): number {
    return this.rowOf(Math.max(t.loc.offset, t.loc.end - 1));
  }

  term(t: Term, indent: number): string {
    switch (t.type) {
      case 'null': return 'null';
      case 'boolean': return String(t.value);
      case 'number': return t.value;
      case 'string': return this.stringText(t);
      case 'var': return t.value.startsWith('$') ? '_' : t.value;
      case 'ref': return this.ref(t.value, indent);
      case 'call': return this.call(t.value, indent, true);
      case 'array': return this.composite('[', ']', t.value.map((e) => [e, (i) => this.term(e, i)]), t.loc.row, indent);
      case 'set':
        if (t.value.length === 0) return 'set()';
        return this.composite('{', '}', this.distinct(t.value).map((e) => [e, (i) => this.term(e, i)]), t.loc.row, indent);
      case 'object':
        return this.composite('{', '}', t.value.map(([k, v]) => [k, (i) => `${this.term(k, i)}: ${this.term(v, i)}`, v]), t.loc.row, indent);
      case 'arraycomprehension': return this.comprehension('[', ']', this.term(t.value.term, indent), t.value.body, t.loc.row, indent);
      case 'setcomprehension': return this.comprehension('{', '}', this.term(t.value.term, indent), t.value.body, t.loc.row, indent);
      case 'objectcomprehension':
        return this.comprehension('{', '}', `${this.term(t.value.key, indent)}: ${this.term(t.value.value, indent)}`, t.value.body, t.loc.row, indent);
      case 'templatestring': return this.templateString(t.value.parts, t.value.multiLine, indent);
    }
  }

  /**
   * `$"…"` rebuilt from its parts: a scalar written in braces becomes literal text, literal text is quoted as Go
   * quotes it (raw text as it is) with `{` escaped, other expressions are printed in braces.
   */
  private templateString(parts: (Term | Expr)[], multiLine: boolean, indent: number): string {
    let out = '';
    let text = '';
    const flush = () => {
      out += (multiLine ? text : goQuoteInner(text)).replaceAll('{', '\\{');
      text = '';
    };
    for (const part of parts) {
      if ('terms' in part) {
        flush();
        out += `{${this.expr(part, indent)}}`;
      } else text += part.type === 'string' ? part.value : this.term(part, indent);
    }
    flush();
    return multiLine ? `$\`${out}\`` : `$"${out}"`;
  }

  /** A set literal's elements without repeats (`{3.5, 3.50}` is the set `{3.5}`), the first of equal ones kept. */
  private distinct(elems: Term[]): Term[] {
    const seen = new Set<string>();
    return elems.filter((e) => {
      const key = this.valueKey(e);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** A text equal for terms of equal value: numbers by their value, composites by their elements. */
  private valueKey(t: Term): string {
    switch (t.type) {
      case 'number': return `n${numberKey(t.value)}`;
      case 'string': return `s${JSON.stringify(t.value)}`;
      case 'null': return 'null';
      case 'boolean': return String(t.value);
      case 'var': return `v${t.value}`;
      case 'array': return `[${t.value.map((e) => this.valueKey(e)).join(',')}]`;
      case 'set': return `set{${t.value.map((e) => this.valueKey(e)).sort().join(',')}}`;
      case 'object': return `{${t.value.map(([k, v]) => `${this.valueKey(k)}:${this.valueKey(v)}`).sort().join(',')}}`;
      default: return `t${this.source.slice(t.loc.offset, t.loc.end)}`;
    }
  }

  /** A string as written (quoted or raw); made-up strings (ref segments written as `.x`) are quoted. */
  private stringText(t: Term & { type: 'string' }): string {
    const c = this.source[t.loc.offset];
    if ((c === '"' || c === '`') && t.loc.end > t.loc.offset) return this.source.slice(t.loc.offset, t.loc.end);
    return JSON.stringify(t.value);
  }

  /**
   * `x.y` for identifier keys; a keyword written as `x["package"]` keeps its brackets, and every keyword gets them
   * where the capabilities lack keywords_in_refs.
   */
  ref(parts: Term[], indent: number): string {
    const [head, ...rest] = parts;
    let out = head.type === 'var' ? this.term(head, indent) : this.term(head, indent);
    for (const seg of rest) {
      if (seg.type === 'string' && isIdentifier(seg.value) && !(KEYWORDS_V1.includes(seg.value) && (!this.keywordsInRefs || this.source[seg.loc.offset] === '"'))) {
        out += `.${seg.value}`;
      }
      else out += `[${this.term(seg, indent)}]`;
    }
    return out;
  }

  /**
   * An operator call: `[op, args...]`. Infix calls among the operands of a call term are parenthesised; those of
   * an expression's own operator (`x := a + b`) are not.
   */
  call(terms: Term[], indent: number, nested: boolean): string {
    const [op, ...args] = terms;
    const name = op.type === 'ref' ? this.ref(op.value, indent) : this.term(op, indent);
    const arg = (a: Term) => this.term(a, indent);
    if (name === 'internal.member_2') return `${this.operand(args[0], indent)} in ${this.operand(args[1], indent)}`;
    if (name === 'internal.member_3') {
      const text = `${this.operand(args[0], indent)}, ${this.operand(args[1], indent)} in ${this.operand(args[2], indent)}`;
      return nested ? `(${text})` : text;
    }
    const symbol = INFIX_OPERATORS[name];
    if (symbol && args.length === 2) {
      if (name === 'minus' && args[0].type === 'number' && args[0].value === '0' && args[0].loc.offset === op.loc.offset) {
        return `-${arg(args[1])}`;
      }
      const operand = (a: Term) => (nested ? this.operand(a, indent) : this.term(a, indent));
      return `${operand(args[0])} ${symbol} ${operand(args[1])}`;
    }
    if (args.length === 0) return `${name}()`;
    return this.composite(`${name}(`, ')', args.map((a) => [a, (i) => this.term(a, i)]), undefined, indent);
  }

  /** An operand of an infix operator: an arithmetic or comparison call in it is parenthesised. */
  private operand(a: Term, indent: number): string {
    const op = a.type === 'call' ? a.value[0] : undefined;
    const name = op?.type === 'ref' ? this.ref(op.value, 0) : '';
    return INFIX_OPERATORS[name] !== undefined && a.type === 'call' && a.value.length === 3 ? `(${this.term(a, indent)})` : this.term(a, indent);
  }

  /**
   * Elements on one line unless a line break was written before the first (after the opening bracket; calls pass
   * no `row` and ignore that one) or an element starts on a later row than the one before it; then each run of
   * elements starting on one row gets a line ending in a comma, one level deeper than the line the composite
   * starts on. Elements holding a variable the compiler generated (`__local0__`) stay on one line: their
   * positions say nothing of how the source was laid out.
   */
  private composite(open: string, close: string, elems: CompositeElement[], row: number | undefined, indent: number): string {
    if (elems.length === 0) return open + close;
    const breakBefore = elems.map(([t], i) => (i === 0 ? row !== undefined && t.loc.row !== row : t.loc.row > elems[i - 1][0].loc.row));
    if (elems.some(([t, , value]) => holdsGeneratedVar(t) || (value !== undefined && holdsGeneratedVar(value)))) breakBefore.fill(false);
    if (!breakBefore.includes(true)) return `${open}${elems.map(([, f]) => f(indent)).join(', ')}${close}`;
    const pad = '\t'.repeat(indent + 1);
    const lines: string[] = [];
    const endLine = (last: Term) => {
      const trailing = this.comments.trailing(this.endRow(last));
      if (trailing) lines[lines.length - 1] += ` ${trailing}`;
    };
    elems.forEach(([t, f], i) => {
      if (i === 0 || breakBefore[i]) {
        if (i > 0) endLine(elems[i - 1][2] ?? elems[i - 1][0]);
        for (const c of this.comments.before(t.loc.offset)) lines.push(pad + c);
        lines.push(`${pad}${f(indent + 1)},`);
      } else lines[lines.length - 1] += ` ${f(indent + 1)},`;
    });
    const last = elems[elems.length - 1];
    endLine(last[2] ?? last[0]);
    for (const c of this.comments.before(this.closeOffset(last[2] ?? last[0]))) lines.push(pad + c);
    return `${open}\n${lines.join('\n')}\n${'\t'.repeat(indent)}${close}`;
  }

  /** The offset of the bracket closing a composite, found after its last element past commas and comments. */
  private closeOffset(last: Term): number {
    let i = last.loc.end;
    while (i < this.source.length) {
      const c = this.source[i];
      if (c === '#') while (i < this.source.length && this.source[i] !== '\n') i++;
      else if (c === ',' || /\s/.test(c)) i++;
      else break;
    }
    return i;
  }

  private comprehension(open: string, close: string, head: string, body: Body, row: number, indent: number): string {
    if (body.every((e) => e.loc.row === row)) return `${open}${head} | ${body.map((e) => this.expr(e, indent)).join('; ')}${close}`;
    return `${open}${head} |\n${this.bodyLines(body, indent + 1)}\n${'\t'.repeat(indent)}${close}`;
  }

  /** The expressions of a body one per line at `indent`, with the comments written among them. */
  bodyLines(body: Body, indent: number, endOffset?: number): string {
    const pad = '\t'.repeat(indent);
    const lines: string[] = [];
    let lastRow: number | undefined;
    for (const e of body) {
      if (lastRow !== undefined && e.loc.row > lastRow + 1 && (this.comments.nextRow() ?? Infinity) > lastRow + 1) lines.push('');
      for (const c of this.comments.before(e.loc.offset)) lines.push(pad + c);
      lastRow = this.endRow(e);
      let line = pad + this.expr(e, indent);
      const trailing = this.comments.trailing(this.rowOf(e.loc.end));
      if (trailing) line += ' ' + trailing;
      lines.push(line);
    }
    if (endOffset !== undefined) for (const c of this.comments.before(endOffset)) lines.push(pad + c);
    return lines.join('\n');
  }

  expr(e: Expr, indent: number): string {
    let out = e.negated ? 'not ' : '';
    const terms = e.terms;
    if (Array.isArray(terms)) out += this.call(terms, indent, false);
    else if (isTerm(terms)) out += this.term(terms, indent);
    else if (terms.type === 'some') {
      const [first] = terms.symbols;
      out += first.type === 'call' ? `some ${this.call(first.value, indent, false)}` : `some ${terms.symbols.map((s) => this.term(s, indent)).join(', ')}`;
    } else if (terms.type === 'every') {
      const vars = terms.key ? `${this.term(terms.key, indent)}, ${this.term(terms.value, indent)}` : this.term(terms.value, indent);
      out += `every ${vars} in ${this.term(terms.domain, indent)} ${this.block(terms.body, e.loc.row, indent, e.loc.end, false)}`;
    } else if (terms.type === 'not') {
      const [only] = terms.body;
      if (terms.explicitBody) out += `not ${this.block(terms.body, e.loc.row, indent, e.loc.end)}`;
      else out += `not ${this.isLogical(only) ? `(${this.expr(only, indent)})` : this.expr(only, indent)}`;
    } else {
      const operand = (body: Body, right: boolean) => this.logicalOperand(body, terms.type, right, e.loc.offset, indent);
      out += `${operand(terms.lhs, false)} ${terms.type === 'logicaland' ? 'and' : 'or'} ${operand(terms.rhs, true)}`;
    }
    for (const w of e.with ?? []) out += `${this.startsRow(w.loc.offset) ? `\n${'\t'.repeat(indent + 1)}` : ' '}${this.withText(w, indent)}`;
    return out;
  }

  /** Whether only blanks precede `offset` on its row (it was written at the start of a line). */
  private startsRow(offset: number): boolean {
    let i = offset - 1;
    while (i >= 0 && (this.source[i] === ' ' || this.source[i] === '\t')) i--;
    return i < 0 || this.source[i] === '\n' || this.source[i] === '\r';
  }

  private isLogical(e: Expr): boolean {
    return !Array.isArray(e.terms) && !isTerm(e.terms) && (e.terms.type === 'logicaland' || e.terms.type === 'logicalor');
  }

  /**
   * An and/or operand: a body in braces (as written), or one expression; parentheses where precedence needs them (an `or`
   * under an `and`, a nested one on the right) and around an operand with its own `with`.
   */
  private logicalOperand(body: Body, parent: string, right: boolean, parentOffset: number, indent: number): string {
    let i = body[0].loc.offset - 1;
    while (i >= 0 && /\s/.test(this.source[i])) i--;
    if (body.length !== 1 || (this.source[i] === '{' && i >= parentOffset)) return `{ ${body.map((b) => this.expr(b, indent)).join('; ')} }`;
    const [only] = body;
    const text = this.expr(only, indent);
    if (only.with) return `(${text})`;
    if (!this.isLogical(only)) return text;
    const kind = (only.terms as { type: string }).type;
    return (kind === 'logicalor' && parent === 'logicaland') || (right && kind === parent) ? `(${text})` : text;
  }

  private withText(w: With, indent: number): string {
    return `with ${this.term(w.target, indent)} as ${this.term(w.value, indent)}`;
  }

  /**
   * `{ e }` when the body was written on the opening row (several expressions joined by `; ` then, and `every`
   * leaves out the space before `}` as `opa fmt` does), else one expression per line; a comment written after
   * the opening brace stays on its row.
   */
  block(body: Body, row: number, indent: number, endOffset: number, spacedClose = true): string {
    if (body.length > 0 && body.every((e) => e.loc.row === row)) {
      const text = body.map((e) => this.expr(e, indent)).join('; ');
      return `{ ${text}${body.length === 1 || spacedClose ? ' ' : ''}}`;
    }
    const brace = this.braceComment(body[0].loc.offset);
    return `{${brace ? ` ${brace}` : ''}\n${this.bodyLines(body, indent + 1, endOffset)}\n${'\t'.repeat(indent)}}`;
  }

  /**
   * The comment written on the row of a body's opening brace: before the first expression, or after expressions
   * written on that row (they move to lines of their own, the comment stays after the brace).
   */
  private braceComment(firstOffset: number): string | undefined {
    const offset = this.comments.nextOffset();
    if (offset === undefined) return undefined;
    const before = (at: number) => this.source.slice(this.lineStarts[this.rowOf(at) - 1], at).trimEnd();
    const onBraceRow = offset < firstOffset ? before(offset).endsWith('{') : this.rowOf(offset) === this.rowOf(firstOffset) && before(firstOffset).endsWith('{');
    if (!onBraceRow) return undefined;
    return this.comments.before(offset + 1)[0];
  }
}
