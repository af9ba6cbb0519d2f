// The printed forms of an explanation, as OPA prints them: the REST API's JSON events (op, query_id,
// parent_id, type, node, locals, message), its text form (?pretty=true), and `opa eval --explain`'s JSON
// (Go field names) and text (--format pretty).
import type { Body, Expr, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { exprOperator } from '../walk.js';
import { plug, type TraceNode } from '../partial/evaluator.js';
import { isGround } from '../partial/values.js';
import { compareTerms, termJson, type AstJson } from '../partial/ast-json.js';
import type { ExplainEvent } from './index.js';
import { RegoText } from '../rego-text.js';

/** The REST API's explanation: one JSON object per event. */
export function explanationJson(events: ExplainEvent[]): AstJson[] {
  return events.map((e) => {
    const out: AstJson = { op: e.op, query_id: e.query, parent_id: e.parent, type: nodeType(e.node), node: nodeJson(e.node), locals: e.op === 'note' ? [] : locals(e).map(([k, v]) => ({ key: termJson(k), value: termJson(v) })) };
    if (e.message) out.message = e.message;
    return out;
  });
}

/** `opa eval --explain --format json`: Go's field names, locations with every event. */
export function evalExplanationJson(events: ExplainEvent[]): AstJson[] {
  return events.map((e) => {
    const note = e.op === 'note';
    return {
      Op: e.op[0]!.toUpperCase() + e.op.slice(1),
      Node: nodeJson(e.node),
      Location: { file: e.location.file, row: e.location.row, col: e.location.col },
      QueryID: e.query,
      ParentID: e.parent,
      Locals: note ? null : locals(e).map(([k, v]) => ({ name: k.value.startsWith('$') ? '_' : (k as { value: string }).value, ...termJson(v) })),
      LocalMetadata: note ? null : {},
      Message: e.message ?? '',
      Ref: e.ref ? [{ type: 'var', value: 'data' }, ...e.ref.map((value) => ({ type: 'string', value }))] : null,
    };
  });
}

/**
 * The text form: location, nesting bars, the operation and the node in Rego. The location column is `gap` wider
 * than the longest location (`opa eval` pads by 5, `opa test` by 7).
 */
export function explanationText(events: ExplainEvent[], gap = 5): string[] {
  const where = events.map((e) => `${e.location.file === '' ? 'query' : e.location.file}:${e.location.row}`);
  const width = Math.max(0, ...where.map((w) => w.length)) + gap;
  return events.map((e, i) => {
    const op = e.op[0]!.toUpperCase() + e.op.slice(1);
    let text: string;
    if (e.op === 'note') text = JSON.stringify(e.message ?? '');
    else if (e.op === 'index') text = `${['data', ...(e.ref ?? [])].join('.')} ${e.message ?? ''}`;
    else text = nodeText(e.node, e.localNames) + (e.message ? ` ${e.message}` : '');
    return `${where[i]!.padEnd(width)}${'| '.repeat(e.depth)}${op} ${text}`;
  });
}

function nodeType(node: TraceNode): string {
  if (!node) return '';
  return node.kind;
}

/** Bindings at the event, in the order they were made, where they are values. */
function locals(e: ExplainEvent): [Extract<Term, { type: 'var' }>, Term][] {
  const out: [Extract<Term, { type: 'var' }>, Term][] = [];
  for (const [name, bound] of e.env) {
    const value = plug(bound, e.env);
    if (isGround(value) && !(bound.type === 'var' && bound.value === name)) out.push([{ type: 'var', value: name, loc: bound.loc }, value]);
  }
  return out;
}

// ---------------------------------------------------------------- nodes as OPA's AST JSON

function nodeJson(node: TraceNode): unknown {
  if (!node) return null;
  switch (node.kind) {
    case 'body': return bodyJson(node.body);
    case 'expr': return exprNodeJson(node.expr);
    case 'rule': return ruleJson(node.rule);
  }
}

function bodyJson(body: Body): AstJson[] {
  return body.map(exprNodeJson);
}

function ruleJson(rule: Rule): AstJson {
  const head: AstJson = {};
  const first = rule.head.ref[0];
  if (rule.head.ref.length === 1 && first?.type === 'var') head.name = first.value;
  if (rule.head.args) head.args = rule.head.args.map(anyTermJson);
  if (rule.head.key) head.key = anyTermJson(rule.head.key);
  if (rule.head.value) head.value = anyTermJson(rule.head.value);
  if (rule.head.assign) head.assign = true;
  head.ref = rule.head.ref.map(anyTermJson);
  const out: AstJson = { body: bodyJson(rule.body), head };
  if (rule.default) out.default = true;
  return out;
}

/** OPA rewrites `a == b` in a body to `a = b`: the node is shown as OPA's compiled form. */
function asCompiled(e: Expr): Expr {
  if (Array.isArray(e.terms) && e.terms.length === 3 && exprOperator(e) === 'equal') {
    const [op, a, b] = e.terms as [Term, Term, Term];
    return { ...e, terms: [{ type: 'ref', value: [{ type: 'var', value: 'eq', loc: op.loc }], loc: op.loc }, a, b] };
  }
  return e;
}

function exprNodeJson(expr: Expr): AstJson {
  const e = asCompiled(expr);
  const out: AstJson = {};
  if (e.generated) out.generated = true;
  out.index = e.index;
  if (e.negated) out.negated = true;
  const terms = e.terms;
  if (Array.isArray(terms)) out.terms = terms.map(anyTermJson);
  else if (isTerm(terms)) out.terms = anyTermJson(terms);
  else if (terms.type === 'every') out.terms = { key: terms.key ? anyTermJson(terms.key) : null, value: anyTermJson(terms.value), domain: anyTermJson(terms.domain), body: bodyJson(terms.body) };
  else if (terms.type === 'not') out.terms = bodyJson(terms.body);
  else if (terms.type === 'logicaland' || terms.type === 'logicalor') out.terms = { lhs: bodyJson(terms.lhs), rhs: bodyJson(terms.rhs), type: terms.type === 'logicaland' ? 'and' : 'or' };
  else out.terms = { type: terms.type };
  if (e.with?.length) out.with = e.with.map((w) => ({ target: anyTermJson(w.target), value: anyTermJson(w.value) }));
  return out;
}

function anyTermJson(t: Term): AstJson {
  switch (t.type) {
    case 'arraycomprehension': case 'setcomprehension': return { type: t.type, value: { term: anyTermJson(t.value.term), body: bodyJson(t.value.body) } };
    case 'objectcomprehension': return { type: t.type, value: { key: anyTermJson(t.value.key), value: anyTermJson(t.value.value), body: bodyJson(t.value.body) } };
    case 'ref': case 'array': case 'call': return { type: t.type, value: t.value.map(anyTermJson) };
    case 'set': return { type: 'set', value: [...t.value].sort(compareTerms).map(anyTermJson) };
    case 'object': return { type: 'object', value: [...t.value].sort(([a], [b]) => compareTerms(a, b)).map(([k, v]) => [anyTermJson(k), anyTermJson(v)]) };
    case 'templatestring': return { type: t.type };
    default: return termJson(t);
  }
}

// ---------------------------------------------------------------- nodes as Rego text

function nodeText(node: TraceNode, names: ReadonlyMap<string, string>): string {
  if (!node) return '';
  const text = regoText(names);
  switch (node.kind) {
    case 'body': return text.body(node.body);
    case 'expr': return text.expr(node.expr);
    case 'rule': return node.path.length > 0 ? ['data', ...node.path].join('.') : ruleHeadText(node.rule, text);
  }
}

/**
 * Nodes as OPA's trace prints them: its compiled form (`a == b` in a body is `a = b`), locals by the names they
 * were written with, a template string elided.
 */
function regoText(names: ReadonlyMap<string, string>): RegoText {
  // A wildcard, also one renamed to a local (`some _, x in xs` declares it), prints as written: `_`.
  const written = (name: string) => names.get(name) ?? name;
  return new RegoText({ varText: (name) => (written(name).startsWith('$') ? '_' : written(name)), infix: { eq: '=', equal: '=' }, templateString: '$"..."', logical: true });
}

function ruleHeadText(rule: Rule, text: RegoText): string {
  const head = rule.head.ref.map((t, i) => (i === 0 ? text.term(t) : t.type === 'string' ? `.${t.value}` : `[${text.term(t)}]`)).join('');
  return rule.head.args ? `${head}(${rule.head.args.map((a) => text.term(a)).join(', ')})` : head;
}
