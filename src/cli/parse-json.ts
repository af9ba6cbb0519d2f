// `opa parse --format json`'s module JSON, optionally with each node's source location (`--json-include
// locations`). Terms and expressions come from the one AST-JSON encoder; locations are laid over that JSON by
// walking the AST alongside it (sets and objects in the encoder's sorted order), as OPA's Location: file, row,
// col and the node's source text in base64.
import type { Body, Expr, Import, Location, Module, Rule, Term } from '../compiler/ast.js';
import { isTerm } from '../compiler/ast.js';
import { compareTerms, exprJson, termJson, type AstJson } from '../compiler/partial/ast-json.js';

export interface ParseJsonOptions {
  comments: boolean;
  locations: boolean;
  /** The module's source, for the location texts. */
  source: string;
}

export function moduleJson(module: Module, opts: ParseJsonOptions): AstJson {
  const at = opts.locations ? locationOf(opts.source) : undefined;
  const pkg: AstJson = { path: module.package.path.map((t) => term(t, at)) };
  const out: AstJson = { package: at ? { location: at(keyword(module.package.loc, 'package')), ...pkg } : pkg };
  if (module.imports.length > 0) out.imports = module.imports.map((imp) => importJson(imp, at));
  if (module.rules.length > 0) out.rules = module.rules.map((r) => ruleJson(r, at));
  if (opts.comments && module.comments.length > 0) {
    out.comments = module.comments.map((c) => ({
      Text: Buffer.from(c.text).toString('base64'),
      Location: at ? at(c.loc) : { file: c.loc.file, row: c.loc.row, col: c.loc.col },
    }));
  }
  return out;
}

type At = (loc: Location) => AstJson;

/** OPA's Location JSON for a span of `source`; the text is omitted where the span is empty. */
function locationOf(source: string): At {
  return (loc) => {
    const text = source.slice(loc.offset, loc.end);
    return { file: loc.file, row: loc.row, col: loc.col, ...(text ? { text: Buffer.from(text).toString('base64') } : {}) };
  };
}

/** The span of the keyword a node starts with (OPA locates packages, imports, defaults and `some` so). */
function keyword(loc: Location, word: string): Location {
  return { ...loc, end: loc.offset + word.length };
}

/** `json` with `location` added in Go's key order (the encoder's keys are sorted, as Go's maps print). */
function placed(json: AstJson, location: AstJson): AstJson {
  return Object.fromEntries(Object.entries({ ...json, location }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function term(t: Term, at: At | undefined): AstJson {
  const json = termJson(t);
  return at ? locateTerm(t, json, at) : json;
}

function locateTerm(t: Term, json: AstJson, at: At): AstJson {
  const value = json.value as AstJson[] & AstJson;
  switch (t.type) {
    case 'ref': case 'array': case 'call':
      json.value = t.value.map((c, i) => (i === 0 && isUnaryMinus(t) ? value[0] : locateTerm(c, value[i], at)));
      break;
    case 'set':
      json.value = [...t.value].sort(compareTerms).map((c, i) => locateTerm(c, value[i], at));
      break;
    case 'object':
      json.value = [...t.value].sort(([a], [b]) => compareTerms(a, b))
        .map(([k, v], i) => [locateTerm(k, (value[i] as unknown as AstJson[])[0], at), locateTerm(v, (value[i] as unknown as AstJson[])[1], at)]);
      break;
    case 'arraycomprehension': case 'setcomprehension':
      json.value = { term: locateTerm(t.value.term, value.term as AstJson, at), body: locateBody(t.value.body, value.body as AstJson[], at) };
      break;
    case 'objectcomprehension':
      json.value = {
        key: locateTerm(t.value.key, value.key as AstJson, at),
        value: locateTerm(t.value.value, value.value as AstJson, at),
        body: locateBody(t.value.body, value.body as AstJson[], at),
      };
      break;
    default:
  }
  return placed(json, at(termLoc(t)));
}

/**
 * OPA's quirks in term locations: a negative number is located at its `-`, and a ref on a literal collection
 * (`[1, 2][0]`, `{"a": 1}.a`) starts its text at the collection's closing bracket.
 */
function termLoc(t: Term): Location {
  if (t.type === 'number' && t.value.startsWith('-')) return keyword(t.loc, '-');
  if (t.type === 'ref' && COLLECTIONS.has(t.value[0].type)) return { ...t.loc, offset: t.value[0].loc.end - 1 };
  return t.loc;
}

const COLLECTIONS = new Set<Term['type']>(['array', 'object', 'set', 'arraycomprehension', 'setcomprehension', 'objectcomprehension']);

/** `-x` is parsed as `minus(0, x)`, with the 0 at the `-`; OPA gives the made-up operator no location. */
function isUnaryMinus(t: Term): boolean {
  if (t.type !== 'call') return false;
  const [op, zero] = t.value;
  return op.type === 'ref' && op.value.length === 1 && op.value[0].type === 'var' && op.value[0].value === 'minus'
    && zero?.type === 'number' && zero.value === '0' && zero.loc.offset === op.loc.offset;
}

function locateBody(body: Body, json: AstJson[], at: At): AstJson[] {
  return body.map((e, i) => locateExpr(e, json[i], at));
}

function locateExpr(e: Expr, json: AstJson, at: At): AstJson {
  const terms = e.terms;
  const tj = json.terms as AstJson & AstJson[];
  if (Array.isArray(terms)) json.terms = terms.map((t, i) => locateTerm(t, tj[i], at));
  else if (isTerm(terms)) json.terms = locateTerm(terms, tj, at);
  else if (terms.type === 'some') {
    json.terms = placed({ symbols: terms.symbols.map((s, i) => locateTerm(s, (tj.symbols as AstJson[])[i], at)) }, at(keyword(terms.loc, 'some')));
  } else if (terms.type === 'every') {
    json.terms = placed({
      body: locateBody(terms.body, tj.body as AstJson[], at),
      domain: locateTerm(terms.domain, tj.domain as AstJson, at),
      key: terms.key ? locateTerm(terms.key, tj.key as AstJson, at) : null,
      value: locateTerm(terms.value, tj.value as AstJson, at),
    }, at(keyword(terms.loc, 'every')));
  } else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
    // OPA gives the `and`/`or` node itself no location.
    json.terms = { ...tj, lhs: locateBody(terms.lhs, tj.lhs as AstJson[], at), rhs: locateBody(terms.rhs, tj.rhs as AstJson[], at) };
  }
  if (e.with) {
    const wj = json.with as AstJson[];
    json.with = e.with.map((w, i) => placed({
      target: locateTerm(w.target, wj[i].target as AstJson, at),
      value: locateTerm(w.value, wj[i].value as AstJson, at),
    }, at(w.loc)));
  }
  return placed(json, at(e.loc));
}

function expr(e: Expr, at: At | undefined): AstJson {
  const json = exprJson(e);
  return at ? locateExpr(e, json, at) : json;
}

function importJson(imp: Import, at: At | undefined): AstJson {
  const path = term(imp.path, at);
  if (!at) return { ...(imp.alias ? { alias: imp.alias } : {}), path };
  const alias: AstJson = imp.alias && imp.aliasLoc ? { alias: imp.alias, alias_location: at(imp.aliasLoc) } : {};
  return { ...alias, location: at(keyword(imp.loc, 'import')), path };
}

function ruleJson(rule: Rule, at: At | undefined, isElse = false): AstJson {
  const head = rule.head;
  const headJson: AstJson = {};
  if (head.name) headJson.name = head.name;
  if (head.args) headJson.args = head.args.map((t) => term(t, at));
  if (head.key) headJson.key = term(head.key, at);
  // The `true` a head without a value gets has no place in the source, and OPA prints no location for it.
  if (head.value) headJson.value = at && head.generatedValue ? termJson(head.value) : term(head.value, at);
  if (head.assign) headJson.assign = true;
  headJson.ref = head.ref.map((t) => term(t, at));
  if (at) headJson.location = at(headLoc(rule, isElse));
  const out: AstJson = { body: at && rule.generatedBody ? [generatedBody(rule, isElse, at)] : rule.body.map((e) => expr(e, at)) };
  if (rule.default) out.default = true;
  if (rule.else) out.else = ruleJson(rule.else, at, true);
  out.head = headJson;
  if (at) out.location = at(rule.default ? keyword(rule.loc, 'default') : rule.loc);
  return out;
}

/**
 * An else branch's head spans `else` to its value; the head of a further body (`p { a } { b }`) is located at
 * that whole body, as OPA does; other heads are located as parsed.
 */
function headLoc(rule: Rule, isElse: boolean): Location {
  const { head } = rule;
  if (!isElse) return head.ref[0].loc.offset === head.loc.offset ? head.loc : rule.loc;
  return head.value && !head.generatedValue ? { ...head.loc, end: head.value.loc.end } : keyword(head.loc, 'else');
}

/** The `true` body of `p := 1`: OPA places it at the default keyword, an else head, the head's value, the name of a
 * `contains` rule or the whole head. */
function generatedBody(rule: Rule, isElse: boolean, at: At): AstJson {
  const { head } = rule;
  const loc = rule.default ? keyword(rule.loc, 'default') : isElse ? headLoc(rule, true) : head.value && !head.generatedValue ? termLoc(head.value)
    : head.keywords.contains ? head.ref[0].loc : head.loc;
  const location = at(loc);
  return { generated: true, index: 0, location, terms: { location, type: 'boolean', value: true } };
}
