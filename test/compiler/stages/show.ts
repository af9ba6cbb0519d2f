// A compact text form of rewritten rules for tests: `head = value { expr; expr }` with calls as name(args).
import type { Body, Expr, Rule, Term } from '../../../src/compiler/ast.js';
import { isTerm } from '../../../src/compiler/ast.js';

export function showTerm(t: Term | null | undefined): string {
  if (!t) return '';
  switch (t.type) {
    case 'var': return t.value;
    case 'string': return JSON.stringify(t.value);
    case 'number': return t.value;
    case 'boolean': return String(t.value);
    case 'null': return 'null';
    case 'ref': return t.value.map((x, i) => (i === 0 ? showTerm(x) : x.type === 'string' ? `.${x.value}` : `[${showTerm(x)}]`)).join('');
    case 'call': return `${showTerm(t.value[0])}(${t.value.slice(1).map(showTerm).join(', ')})`;
    case 'array': return `[${t.value.map(showTerm).join(', ')}]`;
    case 'set': return `{${t.value.map(showTerm).join(', ')}}`;
    case 'object': return `{${t.value.map(([k, v]) => `${showTerm(k)}: ${showTerm(v)}`).join(', ')}}`;
    case 'arraycomprehension': return `[${showTerm(t.value.term)} | ${showBody(t.value.body)}]`;
    case 'setcomprehension': return `{${showTerm(t.value.term)} | ${showBody(t.value.body)}}`;
    case 'objectcomprehension': return `{${showTerm(t.value.key)}: ${showTerm(t.value.value)} | ${showBody(t.value.body)}}`;
    case 'templatestring': return '$"..."';
  }
}

export function showExpr(e: Expr): string {
  const t = e.terms;
  let s: string;
  if (Array.isArray(t)) s = `${showTerm(t[0])}(${t.slice(1).map(showTerm).join(', ')})`;
  else if (t.type === 'some') s = `some ${t.symbols.map(showTerm).join(', ')}`;
  else if (t.type === 'every') s = `every ${showTerm(t.key)}, ${showTerm(t.value)} in ${showTerm(t.domain)} { ${showBody(t.body)} }`;
  else if (t.type === 'not') s = `not { ${showBody(t.body)} }`;
  else if (isTerm(t)) s = showTerm(t);
  else s = `{ ${showBody(t.lhs)} } ${t.type.slice(7)} { ${showBody(t.rhs)} }`;
  if (e.negated) s = `not ${s}`;
  for (const w of e.with ?? []) s += ` with ${showTerm(w.target)} as ${showTerm(w.value)}`;
  return s;
}

export function showBody(b: Body): string {
  return b.map(showExpr).join('; ');
}

export function showRule(r: Rule): string {
  const h = r.head;
  const args = h.args ? `(${h.args.map(showTerm).join(', ')})` : '';
  const ref = h.ref.map((x, i) => (i === 0 ? showTerm(x) : x.type === 'string' ? `.${x.value}` : `[${showTerm(x)}]`)).join('');
  const value = h.value ? ` = ${showTerm(h.value)}` : ` contains ${showTerm(h.key)}`;
  return `${ref}${args}${value} { ${showBody(r.body)} }`;
}
