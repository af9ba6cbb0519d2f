// Source text → Module: runs the statement parser over a file, turns v0-style statements (`p = 1`, `p[x]`)
// into rules, applies imports that change the keyword set (future.keywords.*, rego.v1), runs Rego v1's
// rule-shape checks, and attaches # METADATA annotations. As OPA's parser, it stops at the first statement that
// fails and reports that statement's errors (up to MAX_ERRORS), not any later in the file.
import type { Body, Import, Location, Module, Package, RegoVersion, Rule, Term } from './ast.js';
import { isTerm } from './ast.js';
import { attachAnnotations } from './annotations.js';
import { MAX_ERRORS, regoError, type RegoError } from './errors.js';
import { lex } from './lexer.js';
import { FUTURE_KEYWORDS_V0, FUTURE_KEYWORDS_V1, KEYWORDS_V0, KEYWORDS_V1, Parser } from './parser.js';
import { operatorName, valueName } from './parse-terms.js';

export interface ParseOptions {
  /** Rego syntax version; v1 unless a bundle manifest or the config says v0. */
  regoVersion?: RegoVersion;
  /** Where an ad-hoc query's body begins in the source (see Parser.queryBodyAt). */
  queryBodyAt?: number;
  /**
   * The source holds a query's expressions, already parsed as written, copied into a module (`x := (null[0])`):
   * a keyword directly followed by `.` or `[` heads a ref wherever it stands, as it did at the expression's start.
   */
  generatedFromQuery?: boolean;
  /** The language features allowed (capabilities `features`, see CompileRegoOptions.features); all when absent. */
  features?: ReadonlySet<string>;
  /** The future keywords a capabilities document lists (with `features`; CompileRegoOptions.futureKeywords). */
  futureKeywords?: readonly string[];
}

export interface ParseResult {
  module?: Module;
  errors: RegoError[];
}

export type Statement =
  | { kind: 'package'; pkg: Package }
  | { kind: 'import'; imp: Import }
  | { kind: 'rule'; rule: Rule }
  | { kind: 'body'; body: Body; loc: Location };

export function parseModule(file: string, source: string, options: ParseOptions = {}): ParseResult {
  const version = options.regoVersion ?? 'v1';
  const { tokens, comments, errors: lexErrors } = lex(source);
  const p = new Parser(file, source, tokens, version === 'v1' ? KEYWORDS_V1 : KEYWORDS_V0);
  p.queryBodyAt = options.queryBodyAt ?? -1;
  p.keywordRefHeadsAnywhere = options.generatedFromQuery === true;
  p.templateStrings = options.features?.has('template_strings') ?? true;
  p.keywordsInRefs = options.features?.has('keywords_in_refs') ?? true;
  const state: ParseState = { v1Checks: version === 'v1', stoppedAt: Infinity, source, features: options.features, futureKeywords: options.futureKeywords };
  const statements: Statement[] = [];
  try {
    parseStatements(p, version, statements, state);
  } catch (err) {
    // Only a runaway input should get here (the depth guard keeps the JS stack safe); report it, don't crash.
    if (!(err instanceof RangeError)) throw err;
    p.error(p.tok, 'max parsing recursion depth exceeded');
  }

  const at = (e: { offset: number; row: number; col: number }): Location => ({ file, row: e.row, col: e.col, offset: e.offset, end: e.offset });
  // A scanner error comes first at its token, then the parser's errors there (the sort is stable).
  // The scanner's errors count up to where the parser stopped, as OPA's scanner reads no further.
  const syntax = [...lexErrors.filter((e) => e.offset <= state.stoppedAt), ...p.errors]
    .sort((a, b) => a.offset - b.offset)
    .map((e) => regoError('rego_parse_error', at(e), e.message, source));
  if (syntax.length > 0) return { errors: syntax.slice(0, MAX_ERRORS) };

  // Errors found after parsing (module shape, Rego v1 checks, annotations) carry no source line, as OPA's.
  const errors: RegoError[] = [];
  const err = (loc: Location, message: string) => errors.push(regoError('rego_parse_error', loc, message));
  if (statements.length === 0) {
    return { errors: [{ code: 'rego_parse_error', message: 'empty module', location: { file, row: 0, col: 0 } }] };
  }
  const first = statements[0];
  if (first.kind !== 'package') err(statementLoc(first), 'package expected');
  const module: Module = {
    file,
    regoVersion: version,
    package: first.kind === 'package' ? first.pkg : { path: [], loc: statementLoc(first) },
    imports: [],
    rules: [],
    annotations: [],
    comments: comments.map((c) => ({ text: c.text, loc: { ...at(c), end: c.offset + 1 + c.text.length } })),
    loc: { file, row: 1, col: 1, offset: 0, end: source.length },
  };
  for (const [i, stmt] of statements.entries()) {
    if (i === 0) continue;
    switch (stmt.kind) {
      case 'package': err(stmt.pkg.loc, 'unexpected package'); break;
      case 'import': module.imports.push(stmt.imp); break;
      case 'rule': module.rules.push(stmt.rule); break;
      case 'body': {
        const rule = ruleFromBody(stmt.body);
        if (typeof rule === 'string') err(stmt.body[0].loc, rule);
        else {
          module.rules.push(rule);
          statements[i] = { kind: 'rule', rule };
        }
      }
    }
  }
  if (state.v1Checks) for (const rule of module.rules) for (let r: Rule | undefined = rule; r; r = r.else) errors.push(...checkRegoV1(r));
  if (errors.length === 0) errors.push(...attachAnnotations(module, statements, comments, source));
  if (errors.length > 0) return { errors: errors.slice(0, MAX_ERRORS) };
  return { module, errors: [] };
}

interface ParseState {
  /** Whether Rego v1's checks apply (a v1 module, or `import rego.v1`). */
  v1Checks: boolean;
  /** Where the parser stopped at a statement that failed: the scanner reads no further. */
  stoppedAt: number;
  source: string;
  features?: ReadonlySet<string>;
  futureKeywords?: readonly string[];
}

function statementLoc(s: Statement): Location {
  switch (s.kind) {
    case 'package': return s.pkg.loc;
    case 'import': return s.imp.loc;
    case 'rule': return s.rule.loc;
    case 'body': return s.loc;
  }
}

function parseStatements(p: Parser, version: RegoVersion, out: Statement[], state: ParseState): void {
  // As OPA's parser, stop at the first statement that fails: what follows it is not read.
  while (p.tok.kind !== 'eof') {
    const before = p.errors.length;
    if (p.kw('package')) {
      const pkg = p.parsePackage();
      if (pkg && !trailingMinus(p)) {
        out.push({ kind: 'package', pkg });
        continue;
      }
    } else if (p.kw('import')) {
      const imp = p.parseImport();
      if (imp && !trailingMinus(p)) {
        applyImport(p, imp, version, state);
        out.push({ kind: 'import', imp });
        continue;
      }
    } else {
      const s = p.save();
      const rules = p.parseRules();
      if (rules) {
        for (const rule of rules) out.push({ kind: 'rule', rule });
        continue;
      }
      if (p.errors.length === before) {
        p.restore(s);
        const loc = p.loc();
        const body = p.parseQuery(true, 'eof');
        if (body) {
          out.push({ kind: 'body', body, loc: p.span(loc) });
          continue;
        }
      }
    }
    if (p.errors.length === before) p.illegal();
    // OPA keeps a rule whose value is missing (`p := if x`) and reads its body, reading on past it if that parses.
    if (p.kw('if') && /(?:^|[^=!<>])=\s*$/.test(state.source.slice(0, p.tok.offset)) && ruleBodyParses(p)) continue;
    state.stoppedAt = p.tok.offset;
    return;
  }
}

/** Reads a rule body after `if` (a brace body or one literal): whether it parsed without a new error. */
function ruleBodyParses(p: Parser): boolean {
  const before = p.errors.length;
  p.next();
  if (p.is('{')) {
    p.next();
    if (!p.parseBody('}')) return false;
    p.next();
  } else if (!p.parseLiteral()) return false;
  return p.errors.length === before;
}

/** `package a.b -` : the minus would otherwise start the next statement. */
function trailingMinus(p: Parser): boolean {
  if (p.is('-')) {
    p.illegal();
    return true;
  }
  return false;
}

function applyImport(p: Parser, imp: Import, version: RegoVersion, state: ParseState): void {
  const path = imp.path.value;
  const root = path[0].type === 'var' ? path[0].value : '';
  const allowed = importableKeywords(version, state);
  const add = (kws: string[]) => {
    for (const kw of kws) {
      p.keywords.add(kw);
      if (kw === 'not') p.notBodies = true;
      if (kw === 'every') p.keywords.add('in'); // as OPA: importing `every` imports `in`
    }
  };
  if (root === 'future') {
    if (path.length === 1 || path[1].type !== 'string' || path[1].value !== 'keywords') {
      p.error(imp.path.loc, 'invalid import, must be `future.keywords`');
    } else if (imp.alias) {
      p.error(imp.path.loc, '`future` imports cannot be aliased');
    } else if (path.length === 2) {
      add(allowed);
    } else if (path.length === 3 && path[2].type === 'string' && allowed.includes(path[2].value)) {
      add([path[2].value]);
    } else {
      p.error(imp.path.loc, `unexpected keyword, must be one of [${[...allowed].sort().join(' ')}]`);
    }
  } else if (root === 'rego') {
    const name = path.length === 2 && path[1].type === 'string' ? path[1].value : '';
    if (name !== 'v1' && name !== 'v2') {
      p.error(imp.path.loc, `invalid import \`${refText(path)}\`, must be one of: \`rego.v1\`, \`rego.v2\``);
    } else if (state.features && !(name === 'v1' ? ['rego_v1_import', 'rego_v1', 'rego_v2'] : ['rego_v2_import', 'rego_v2']).some((f) => state.features!.has(f))) {
      p.error(imp.path.loc, `invalid import, \`rego.${name}\` is not supported by current capabilities`);
    } else if (imp.alias) {
      p.error(imp.path.loc, '`rego` imports cannot be aliased');
    } else {
      state.v1Checks = true;
      if (version === 'v0') add(FUTURE_KEYWORDS_V0);
      if (name === 'v2') add([...FUTURE_KEYWORDS_V0, ...FUTURE_KEYWORDS_V1]);
    }
  }
}

/**
 * The keywords `import future.keywords.X` may name: without capabilities all of them (v0 too takes `and`, `not`
 * and `or`, as OPA does). With capabilities, as OPA: in v1 the v0 future keywords and
 * those of v1's the document lists; in v0 those it lists, and v0's future keywords when it has rego_v1.
 */
function importableKeywords(version: RegoVersion, { features, futureKeywords }: ParseState): string[] {
  if (!features) return [...FUTURE_KEYWORDS_V0, ...FUTURE_KEYWORDS_V1];
  const listed = futureKeywords ?? [];
  if (version === 'v1') return [...FUTURE_KEYWORDS_V0, ...FUTURE_KEYWORDS_V1.filter((kw) => listed.includes(kw))];
  return [...new Set([...listed, ...(features.has('rego_v1') ? FUTURE_KEYWORDS_V0 : [])])];
}

function refText(path: Term[]): string {
  return path.map((t, i) => (i === 0 && t.type === 'var' ? t.value : t.type === 'string' ? `.${t.value}` : '[...]')).join('');
}

/**
 * A statement that did not parse as a rule may still define one (OPA's ParseRuleFromBody): `p = 1`, `p := 1`,
 * `f(x) = y`, `p[k] = v`, `a.b.c`, `p[x]`, `f(x)`. Returns the rule or OPA's message for why it is not one.
 */
function ruleFromBody(body: Body): Rule | string {
  if (body.length !== 1) return 'multiple expressions cannot be used for rule head';
  const expr = body[0];
  if (expr.with) return 'expressions using with keyword cannot be used for rule head';
  if (expr.negated) return 'negated expressions cannot be used for rule head';
  const terms = expr.terms;
  if (!Array.isArray(terms) && !isTerm(terms)) {
    return terms.type === 'some' ? "'some' declarations cannot be used for rule head" : 'expression cannot be used for rule head';
  }
  const loc = expr.loc;
  const rule = (head: Omit<Rule['head'], 'loc' | 'keywords' | 'assign' | 'name'> & { name?: string; assign?: boolean }): Rule => ({
    head: { name: '', assign: false, ...head, keywords: { if: false, contains: false }, loc },
    body: [{ index: 0, generated: true, terms: { type: 'boolean', value: true, loc }, loc }],
    generatedBody: true,
    loc,
  });
  const truth: Term = { type: 'boolean', value: true, loc };
  if (isTerm(terms)) {
    if (terms.type !== 'ref') return `${valueName(terms)} cannot be used for rule name`;
    const ref = terms.value;
    if (ref[0].type !== 'var') return `${valueName(ref[0])} cannot be used for rule name`;
    if (ref.length > 2) return rule({ ref, value: truth, generatedValue: true });
    if (ref.length === 2) return rule({ ref: [ref[0]], name: ref[0].value, key: ref[1] });
    return 'ref cannot be used for rule name';
  }
  const op = operatorName({ type: 'call', value: terms, loc });
  if (op === 'eq' || op === 'assign') {
    const [, lhs, rhs] = terms;
    const assign = op === 'assign';
    if (lhs.type === 'call') {
      const fn = lhs.value[0];
      if (fn.type !== 'ref' || fn.value[0].type !== 'var') return 'function name must be a var or ref';
      // `f() = 1` has no arguments: a plain rule, as in OPA.
      const args = lhs.value.length > 1 ? lhs.value.slice(1) : undefined;
      return rule({ ref: fn.value, name: fn.value.length === 1 ? (fn.value[0] as { value: string }).value : '', args, value: rhs, assign });
    }
    if (lhs.type === 'var') return rule({ ref: [lhs], name: lhs.value, value: rhs, assign });
    if (lhs.type === 'ref' && lhs.value[0].type === 'var') {
      const ref = lhs.value;
      if (ref.length === 2 && !assign) return rule({ ref, name: ref[0].type === 'var' ? ref[0].value : '', key: ref[1], value: rhs });
      return rule({ ref, value: rhs, assign });
    }
    return `${valueName(lhs)} cannot be used for rule name`;
  }
  const fn = terms[0];
  if (fn.type !== 'ref' || fn.value[0].type !== 'var') return 'expression cannot be used for rule head';
  return rule({ ref: fn.value, name: fn.value.length === 1 ? (fn.value[0] as { value: string }).value : '', args: terms.slice(1), value: truth, generatedValue: true });
}

/** Rego v1's rule-shape rules (OPA's CheckRegoV1 on rules). */
function checkRegoV1(rule: Rule): RegoError[] {
  const errs: RegoError[] = [];
  const what = rule.head.args ? 'function' : 'rule';
  const e = (message: string) => errs.push(regoError('rego_parse_error', rule.loc, message));
  const name = rule.head.ref[0].type === 'var' ? rule.head.ref[0].value : '';
  if (rule.head.ref.length < 2 && KEYWORDS_V1.includes(name)) e(`${name} keyword cannot be used for rule name`);
  // OPA does not count a default rule's body as generated, so `default p` (value true) passes.
  if (rule.generatedBody && rule.head.generatedValue && !rule.default) e(`${what} must have value assignment and/or body declaration`);
  if (!rule.generatedBody && !rule.head.keywords.if && !rule.default) e(`\`if\` keyword is required before ${what} body`);
  if (rule.head.key && !rule.head.value && !rule.head.keywords.contains) e('`contains` keyword is required for partial set rules');
  return errs;
}

