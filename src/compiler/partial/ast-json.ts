// Residual queries and support rules in OPA's AST JSON, as `opa eval -p --format json` and /v1/compile print
// them: terms as {type, value} without locations, numbers as JSON numbers, expressions with their index.
import type { Expr, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { NumberText } from '../../json/number-text.js';
import type { SupportRule } from './evaluator.js';

export type AstJson = Record<string, unknown>;

export function termJson(t: Term): AstJson {
  switch (t.type) {
    case 'null': return { type: 'null' };
    case 'boolean': case 'string': case 'var': return { type: t.type, value: t.value };
    case 'number': return { type: 'number', value: numberJson(t.value) };
    case 'ref': case 'array': case 'set': case 'call': return { type: t.type, value: t.value.map(termJson) };
    case 'object': return { type: 'object', value: t.value.map(([k, v]) => [termJson(k), termJson(v)]) };
    default: throw new Error(`no AST JSON for a residual ${t.type}`);
  }
}

/** A number keeps its text where a double would change it (big integers, 1.0). */
function numberJson(text: string): unknown {
  const n = Number(text);
  return String(n) === text ? n : new NumberText(text);
}

export function exprJson(e: Expr): AstJson {
  const out: AstJson = { index: e.index };
  if (e.generated) out.generated = true;
  if (e.negated) out.negated = true;
  const terms = e.terms;
  if (Array.isArray(terms)) out.terms = terms.map(termJson);
  else if (isTerm(terms)) out.terms = termJson(terms);
  else if (terms.type === 'logicaland' || terms.type === 'logicalor') out.terms = { lhs: terms.lhs.map(exprJson), rhs: terms.rhs.map(exprJson), type: terms.type === 'logicaland' ? 'and' : 'or' };
  else throw new Error(`no AST JSON for a residual ${terms.type}`);
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
    const head: AstJson = { name, ref: [{ type: 'var', value: name }] };
    if (rule.kind === 'set') head.key = termJson(rule.value);
    else head.value = termJson(rule.value);
    const json: AstJson = { body: rule.body.map(exprJson), head };
    if (rule.default) json.default = true;
    modules.get(key)!.push(json);
  }
  return [...modules].map(([key, rulesJson]) => ({
    package: { path: [{ type: 'var', value: 'data' }, ...['partial', ...(key === '' ? [] : key.split('.'))].map((s) => ({ type: 'string', value: s }))] },
    rules: rulesJson,
  }));
}
