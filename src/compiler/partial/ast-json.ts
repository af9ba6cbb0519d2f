// OPA's AST JSON, as `opa eval -p --format json`, /v1/compile and `opa parse --format json` print it: terms as
// {type, value} without locations, numbers as JSON numbers, expressions with their index.
import type { Expr, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { numberFromText } from '../../json/number-text.js';
import { compareJson } from '../../builtins/json-value.js';
import { codePointOrder } from '../../json/writer.js';
import type { SupportRule } from './evaluator.js';

export type AstJson = Record<string, unknown>;

export function termJson(t: Term): AstJson {
  switch (t.type) {
    case 'null': return { type: 'null', value: {} };
    case 'boolean': case 'string': case 'var': return { type: t.type, value: t.value };
    case 'number': return { type: 'number', value: numberFromText(t.value) };
    case 'ref': case 'array': case 'call': return { type: t.type, value: t.value.map(termJson) };
    // OPA keeps objects and sets sorted by key, and prints them so.
    case 'set': return { type: 'set', value: [...t.value].sort(compareTerms).map(termJson) };
    case 'object': return { type: 'object', value: [...t.value].sort(([a], [b]) => compareTerms(a, b)).map(([k, v]) => [termJson(k), termJson(v)]) };
    case 'arraycomprehension': case 'setcomprehension':
      return { type: t.type, value: { term: termJson(t.value.term), body: t.value.body.map(exprJson) } };
    case 'objectcomprehension':
      return { type: t.type, value: { key: termJson(t.value.key), value: termJson(t.value.value), body: t.value.body.map(exprJson) } };
    default: throw new Error(`no AST JSON for a ${t.type}`);
  }
}

const TYPE_ORDER = ['null', 'boolean', 'number', 'string', 'var', 'ref', 'array', 'object', 'set',
  'arraycomprehension', 'objectcomprehension', 'setcomprehension', 'call'];

/** OPA's order of terms: by type, then by value (numbers numerically, composites element by element). */
export function compareTerms(a: Term, b: Term): number {
  const ta = TYPE_ORDER.indexOf(a.type);
  const tb = TYPE_ORDER.indexOf(b.type);
  if (ta !== tb) return ta - tb;
  switch (a.type) {
    case 'null': return 0;
    case 'boolean': return Number(a.value) - Number((b as typeof a).value);
    case 'number': return compareJson(numberFromText(a.value), numberFromText((b as typeof a).value));
    case 'string': case 'var': return codePointOrder(a.value, (b as typeof a).value);
    case 'ref': case 'array': case 'set': case 'call': {
      const y = (b as typeof a).value;
      for (let i = 0; i < Math.min(a.value.length, y.length); i++) {
        const c = compareTerms(a.value[i], y[i]);
        if (c !== 0) return c;
      }
      return a.value.length - y.length;
    }
    default: {
      const x = JSON.stringify(termJson(a));
      const y = JSON.stringify(termJson(b));
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

export function exprJson(e: Expr): AstJson {
  // Go writes an expression's fields in key order: generated, index, negated, terms, with.
  const out: AstJson = e.generated ? { generated: true, index: e.index } : { index: e.index };
  if (e.negated) out.negated = true;
  const terms = e.terms;
  if (Array.isArray(terms)) out.terms = terms.map(termJson);
  else if (isTerm(terms)) out.terms = termJson(terms);
  else if (terms.type === 'some') out.terms = { symbols: terms.symbols.map(termJson) };
  else if (terms.type === 'every') {
    out.terms = { body: terms.body.map(exprJson), domain: termJson(terms.domain), key: terms.key ? termJson(terms.key) : null, value: termJson(terms.value) };
  } else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
    out.terms = { lhs: terms.lhs.map(exprJson), rhs: terms.rhs.map(exprJson), type: terms.type === 'logicaland' ? 'and' : 'or' };
  } else throw new Error(`no AST JSON for a ${terms.type}`);
  if (e.with) out.with = e.with.map((w) => ({ target: termJson(w.target), value: termJson(w.value) }));
  return out;
}

/** Support rules grouped into modules by package (the rule's path without its last segment). */
export function supportModulesJson(rules: SupportRule[]): AstJson[] {
  const modules = new Map<string, AstJson[]>();
  for (const rule of rules) {
    const pkg = rule.path.slice(0, -1);
    const key = pkg.join('.');
    if (!modules.has(key)) modules.set(key, []);
    const name = rule.path[rule.path.length - 1]!;
    const ref = rule.ref ?? [];
    // A head with terms after its name other than a partial object's key (`p[x].q := v`, `p[x] contains v`)
    // has no name, as OPA writes it.
    const head: AstJson = ref.length === 0 || (ref.length === 1 && rule.kind !== 'set') ? { name } : {};
    head.ref = [{ type: 'var', value: name }, ...ref.map(termJson)];
    if (rule.args) head.args = rule.args.map(termJson);
    if (rule.kind === 'set') head.key = termJson(rule.value);
    else {
      if (ref.length === 1) head.key = termJson(ref[0]!);
      head.value = termJson(rule.value);
    }
    const json: AstJson = { body: rule.body.map(exprJson), head };
    if (rule.default) json.default = true;
    modules.get(key)!.push(json);
  }
  return [...modules].map(([key, rulesJson]) => ({
    package: { path: [{ type: 'var', value: 'data' }, ...['partial', ...(key === '' ? [] : key.split('.'))].map((s) => ({ type: 'string', value: s }))] },
    rules: rulesJson,
  }));
}
