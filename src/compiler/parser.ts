// Recursive-descent parser for Rego statements: package, import and rules (the grammar in OPA's
// docs/docs/policy-reference "Grammar"); bodies and terms come from ExpressionParser (parse-terms.ts).
// Module assembly (statements → Module, Rego v1 checks, annotations) lives in parse-module.ts.
import type { Body, Head, Import, Location, Package, RefTerm, Rule, Term } from './ast.js';
import { isTerm } from './ast.js';
import { ExpressionParser, isGround } from './parse-terms.js';
import { nameSegment } from './rego-text.js';

/** Keywords of each Rego version before any import. `future.keywords.*` and `rego.v1` add to these. */
export const KEYWORDS_V1 = ['as', 'contains', 'default', 'else', 'every', 'false', 'if', 'import', 'in', 'not', 'null',
  'package', 'some', 'true', 'with'];
export const KEYWORDS_V0 = ['as', 'default', 'else', 'false', 'import', 'not', 'null', 'package', 'some', 'true', 'with'];
/** Keywords `import future.keywords` can add, per version (v1 only has the newer logical ones). */
export const FUTURE_KEYWORDS_V0 = ['contains', 'every', 'if', 'in'];
export const FUTURE_KEYWORDS_V1 = ['and', 'not', 'or'];

export class Parser extends ExpressionParser {
  // ---- package and import ----
  parsePackage(): Package | null {
    const loc = this.loc();
    if (!this.atPathStart()) return null;
    const term = this.parseTerm();
    if (!term) return null;
    const data: Term = { type: 'var', value: 'data', loc: term.loc };
    if (term.type === 'var') return { path: [data, { type: 'string', value: term.value, loc: term.loc }], loc: this.span(loc) };
    if (term.type === 'ref') {
      const [head, ...rest] = term.value;
      if (head.type !== 'var') {
        this.error(head.loc, `unexpected ${head.type} token: expecting var`);
        return null;
      }
      if (!this.stringSegments(rest)) return null;
      return { path: [{ ...data, loc: head.loc }, { type: 'string', value: head.value, loc: head.loc }, ...rest], loc: this.span(loc) };
    }
    this.error(loc, 'expected path');
    return null;
  }

  parseImport(): Import | null {
    const loc = this.loc();
    if (!this.atPathStart()) return null;
    // OPA reads keywords in import paths whatever the keywords_in_refs capability says.
    const keywordsInRefs = this.keywordsInRefs;
    this.keywordsInRefs = true;
    const term = this.parseTerm();
    this.keywordsInRefs = keywordsInRefs;
    if (!term) {
      this.error(this.here(), 'expected path');
      return null;
    }
    let path: RefTerm;
    if (term.type === 'var') path = { type: 'ref', value: [term], loc: term.loc };
    else if (term.type === 'ref') {
      if (!this.stringSegments(term.value.slice(1))) return null;
      path = term;
    } else {
      this.error(this.here(), 'expected path');
      return null;
    }
    const head = path.value[0];
    const root = head.type === 'var' ? head.value : '';
    if (!['data', 'input', 'future', 'rego'].includes(root)) {
      this.error(path.loc, `unexpected import path, must begin with one of: {data, future, input, rego}, got: ${root || head.type}`);
      return null;
    }
    const imp: Import = { path, loc };
    if (this.kw('as')) {
      this.next();
      if (!this.isIdent()) {
        this.illegal('expected var');
        return null;
      }
      const alias = this.tok.text;
      if (alias === 'data' || alias === 'input') {
        this.error(this.tok, `unexpected import alias, must not be a reserved name, got: ${alias}`);
        return null;
      }
      imp.alias = alias;
      imp.aliasLoc = this.loc();
      this.next();
    } else if (!this.endsWithKeyword(path)) {
      return null;
    }
    imp.loc = this.span(loc);
    return imp;
  }

  /**
   * An import of data or input without an alias binds its last segment as a name: a keyword of the module's
   * version there (`import data.foo.in`) is refused as OPA refuses it. False after reporting it.
   */
  private endsWithKeyword(path: RefTerm): boolean {
    const head = path.value[0];
    const last = path.value[path.value.length - 1];
    if (path.value.length < 2 || head.type !== 'var' || (head.value !== 'data' && head.value !== 'input')) return true;
    if (last.type !== 'string' || !this.keywords.has(last.value)) return true;
    this.error(last.loc, `unexpected import path, must not end with a keyword, got: ${last.value} (hint: import a different path or use an alias)`);
    return false;
  }

  /**
   * Steps past `package` or `import` to its path, which starts with a name (a keyword too, as in `data.if.x`);
   * false after reporting one that starts otherwise.
   */
  private atPathStart(): boolean {
    this.next();
    if (!this.isIdent() && !this.isKeywordRefHead()) {
      this.illegal();
      return false;
    }
    this.keywordHeadAt = this.pos;
    return true;
  }

  /** A package's or import's path after its head is strings only (`a.b["c"]`, not `a[x]`): reports the first other. */
  private stringSegments(segments: Term[]): boolean {
    for (const seg of segments) {
      if (seg.type !== 'string') {
        this.error(seg.loc, `unexpected ${seg.type} token: expecting string`);
        return false;
      }
    }
    return true;
  }

  // ---- rules ----
  /** Parses a rule with its else chain and extra bodies, or returns null (restore and try a body statement). */
  parseRules(): Rule[] | null {
    const start = this.loc();
    let isDefault = false;
    if (this.kw('default')) {
      isDefault = true;
      this.next();
    }
    if (!this.isIdent() && !this.isKeywordRefHead()) {
      if (isDefault) this.illegal('expected rule name');
      return null;
    }
    this.keywordHeadAt = this.pos;
    const parsed = this.parseHead(isDefault);
    if (!parsed) return null;
    const { head, usesContains } = parsed;
    const rule: Rule = { head, body: [], loc: start };

    if (isDefault) {
      rule.default = true;
      if (!this.validDefault(rule)) return null;
      rule.body = trueBody(head.loc);
      rule.generatedBody = true;
      rule.loc = this.span(start);
      return [rule];
    }

    const hasIf = this.kw('if');
    const ref = head.ref;
    if (hasIf && !usesContains && ref.length === 2) {
      const v = ref[1];
      if ((!isGround(v) || v.type === 'ref') && !head.args) head.key = v;
      if (!head.value) {
        head.generatedValue = true;
        head.value = { type: 'boolean', value: true, loc: head.loc };
      } else if (ref[0].type === 'var') head.name = ref[0].value;
    }
    if (!hasIf && !usesContains && !head.args && ref.length === 2 && ref[0].type === 'var') {
      head.name = ref[0].value;
      head.key = ref[1];
      if (!head.value) head.ref = ref.slice(0, 1);
    }

    if (hasIf) {
      head.keywords.if = true;
      this.next();
      const s = this.save();
      const leadingBrace = this.is('{');
      const expr = this.parseLiteral();
      const isSetLiteral = !!expr && leadingBrace && isTerm(expr.terms) && expr.terms.type === 'set';
      if (expr && !isSetLiteral) rule.body = [expr];
      else {
        if (!leadingBrace) return null;
        this.restore(s);
        if (!this.parseBraceBody(rule)) return null;
      }
    } else if (this.is('{')) {
      if (!this.parseBraceBody(rule)) return null;
    } else if (usesContains) {
      rule.body = trueBody(head.loc);
      rule.generatedBody = true;
      rule.loc = head.loc;
      return [rule];
    } else {
      return null;
    }

    if (this.kw('else')) {
      if (head.ref.length > 1 && !head.ref.slice(1).every(isGround)) {
        this.error(this.tok, 'else keyword cannot be used on rules with variables in head');
        return null;
      }
      if (head.key) {
        this.error(this.tok, 'else keyword cannot be used on multi-value rules');
        return null;
      }
      const elseRule = this.parseElse(head);
      if (!elseRule) return null;
      rule.else = elseRule;
    }
    rule.loc = this.span(start);
    const rules = [rule];
    while (this.is('{')) {
      if (rule.else) {
        this.error(this.tok, 'expected else keyword');
        return null;
      }
      const loc = this.loc();
      const next: Rule = { head: this.copyHead(head, loc), body: [], loc };
      if (!this.parseBraceBody(next)) return null;
      next.loc = this.span(loc);
      rules.push(next);
    }
    return rules;
  }

  private parseBraceBody(rule: Rule): boolean {
    this.next();
    const body = this.parseBody('}');
    if (!body) return false;
    this.next();
    rule.body = body;
    return true;
  }

  /** Another body or else branch of the same rule: same head, fresh wildcards in the arguments. */
  private copyHead(head: Head, loc: Location): Head {
    const copy: Head = { ...head, loc, keywords: { ...head.keywords } };
    if (head.args) {
      copy.args = head.args.map((a) => (a.type === 'var' && a.value.startsWith('$') ? { ...a, value: this.wildcard() } : a));
    }
    return copy;
  }

  private parseElse(head: Head): Rule | null {
    const loc = this.loc();
    const elseHead = this.copyHead(head, loc);
    delete elseHead.generatedValue;
    elseHead.keywords = { if: false, contains: false };
    const rule: Rule = { head: elseHead, body: [], loc };
    this.next();
    if (this.is('{') || this.kw('if')) {
      elseHead.generatedValue = true;
      elseHead.value = { type: 'boolean', value: true, loc };
    } else if (this.is(':=') || this.is('=')) {
      elseHead.assign = this.is(':=');
      this.next();
      const value = this.parseTermInfixCall();
      if (!value) return null;
      elseHead.value = value;
    } else {
      this.illegal('expected else value term or rule body');
      return null;
    }
    const hasIf = this.kw('if');
    if (!hasIf && !this.is('{')) {
      rule.body = trueBody(loc);
      rule.generatedBody = true;
      rule.loc = this.span(loc);
      return rule;
    }
    if (hasIf) {
      elseHead.keywords.if = true;
      this.next();
    }
    if (this.is('{')) {
      if (!this.parseBraceBody(rule)) return null;
    } else if (this.tok.kind !== 'eof') {
      const expr = this.parseLiteral();
      if (!expr) return null;
      placeAt(expr, loc);
      rule.body = [expr];
    } else {
      this.illegal('rule body expected');
      return null;
    }
    if (this.kw('else')) {
      const next = this.parseElse(head);
      if (!next) return null;
      rule.else = next;
    }
    rule.loc = this.span(loc);
    return rule;
  }

  private parseHead(isDefault: boolean): { head: Head; usesContains: boolean } | null {
    const loc = this.loc();
    const first: Term = { type: 'var', value: this.varName(), loc: this.loc() };
    this.next();
    const t = this.tok;
    if (!t.ws && t.kind === 'punct' && ['+', '-', '*', '/', '%', '&', '|', '==', '!=', '>', '>=', '<', '<='].includes(t.text)) {
      this.illegal();
      return null;
    }
    let term: Term | null = first;
    if (this.is('(') || this.is('.') || this.is('[')) term = this.parseRef(first);
    if (!term) return null;
    const head: Head = { ref: [], name: '', assign: false, keywords: { if: false, contains: false }, loc };
    if (term.type === 'var') {
      head.ref = [term];
      head.name = term.value;
    } else if (term.type === 'ref') {
      head.ref = term.value;
    } else if (term.type === 'call') {
      const [op, ...args] = term.value;
      if (op.type !== 'ref' || op.value[0].type !== 'var') {
        this.illegal('expected rule head name');
        return null;
      }
      head.ref = op.value;
      if (op.value.length === 1) head.name = (op.value[0] as { value: string }).value;
      // `f() = 1` is a plain rule in OPA (no arguments, no function): data.pkg.f is 1.
      if (args.length > 0) head.args = args;
    } else {
      this.illegal('expected rule head name');
      return null;
    }
    const name = refText(head.ref);
    if (this.kw('contains')) {
      if (head.args) this.illegal(`the contains keyword can only be used with multi-value rule definitions (e.g., ${name} contains <VALUE> { ... })`);
      this.next();
      const key = this.parseTermInfixCall();
      if (!key) {
        this.illegal(`expected rule key term (e.g., ${name} contains <VALUE> { ... })`);
        return null;
      }
      head.key = key;
      head.keywords.contains = true;
      head.loc = this.span(loc);
      return { head, usesContains: true };
    }
    if (this.is('=') || this.is(':=')) {
      head.assign = this.is(':=');
      this.next();
      const value = this.parseTermInfixCall();
      if (!value) {
        // As OPA: the term's own error, then the head's, both at the token where the value broke off. OPA's
        // `=` example prints the head's (always unset) key, hence its `[<nil>]`.
        if (!head.assign) this.illegal(`expected rule value term (e.g., ${name}[<nil>] = <VALUE> { ... })`);
        else if (head.args) this.illegal(`expected function value term (e.g., ${name}(...) := <VALUE> { ... })`);
        else if (isDefault) this.illegal(`expected default rule value term (e.g., default ${name} := <VALUE>)`);
        else this.illegal(`expected rule value term (e.g., ${name} := <VALUE> { ... })`);
        return null;
      }
      head.value = value;
    }
    if (!head.value && !head.key && (head.ref.length !== 2 || head.args)) {
      head.generatedValue = true;
      head.value = { type: 'boolean', value: true, loc };
    }
    head.loc = this.span(loc);
    return { head, usesContains: false };
  }

  private validDefault(rule: Rule): boolean {
    const value = rule.head.value;
    // `default p` has the generated value true, as in OPA; only a head that gets no value (`default p.q`) fails.
    if (!value) {
      this.error(rule.loc, 'illegal default rule (must have a value)');
      return false;
    }
    const bad = findNonConstant(value);
    if (bad) {
      this.error(rule.loc, `illegal default rule (value cannot contain ${bad})`);
      return false;
    }
    const seen = new Set<string>();
    for (const arg of rule.head.args ?? []) {
      if (arg.type !== 'var') {
        this.error(rule.loc, `illegal default rule (arguments cannot contain ${arg.type})`);
        return false;
      }
      if (seen.has(arg.value)) {
        this.error(rule.loc, `illegal default rule (arguments cannot be repeated ${arg.value})`);
        return false;
      }
      seen.add(arg.value);
    }
    return true;
  }

}

/** A rule head's reference as OPA prints it in messages: `p`, `p.q`, `p[x]`, `p["a b"]`, `p[1]`. */
function refText(ref: Term[]): string {
  return ref.map((t, i) => {
    if (i === 0 && t.type === 'var') return t.value;
    if (t.type === 'string') return nameSegment(t.value);
    if (t.type === 'var') return `[${t.value.startsWith('$') ? '_' : t.value}]`;
    if (t.type === 'number') return `[${t.value}]`;
    if (t.type === 'boolean' || t.type === 'null') return `[${String(t.type === 'null' ? 'null' : t.value)}]`;
    return '[...]';
  }).join('');
}

/**
 * A braceless else body (`else := 2 if x > 1`) is placed, every node of it, at its `else` keyword, as OPA's
 * parser does: errors in it point there.
 */
function placeAt(node: unknown, loc: Location): void {
  if (Array.isArray(node)) for (const n of node) placeAt(n, loc);
  else if (node && typeof node === 'object') {
    const fields = node as Record<string, unknown>;
    for (const k of Object.keys(fields)) {
      if (k === 'loc') fields.loc = loc;
      else placeAt(fields[k], loc);
    }
  }
}

function trueBody(loc: Location): Body {
  return [{ index: 0, generated: true, terms: { type: 'boolean', value: true, loc }, loc }];
}

/** The first ref, var or call inside a default rule's value (comprehensions are not looked into). */
function findNonConstant(t: Term): string | undefined {
  switch (t.type) {
    case 'var': return 'var';
    case 'ref': return 'ref';
    case 'call': return 'call';
    case 'array': case 'set': for (const x of t.value) { const r = findNonConstant(x); if (r) return r; } return undefined;
    case 'object': for (const [k, v] of t.value) { const r = findNonConstant(k) ?? findNonConstant(v); if (r) return r; } return undefined;
    default: return undefined;
  }
}
