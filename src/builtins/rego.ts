// rego.metadata.chain() and rego.metadata.rule(), which the planner answers, and
// rego.parse_module(filename, source): the module's AST in the JSON shape OPA prints (no locations or
// annotations): package path, imports, and rules with heads, bodies and else chains. Our
// parser (src/compiler) already follows OPA's node shapes and type tags; this only renames and drops fields.
import type { Body, Expr, Import, Module, Rule, Term } from '../compiler/ast.js';
import { parseModule } from '../compiler/parse-module.js';
import { BuiltinError, str, type JsonObject } from './args.js';
import { NumberText } from './rego-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

function term(t: Term): unknown {
  switch (t.type) {
    case 'null':
      // OPA's Null term marshals as an empty object.
      return { type: 'null', value: {} };
    case 'number':
      return { type: 'number', value: new NumberText(t.value) };
    case 'boolean': case 'string': case 'var':
      return { type: t.type, value: t.value };
    case 'ref': case 'array': case 'set': case 'call':
      return { type: t.type, value: t.value.map(term) };
    case 'object':
      return { type: 'object', value: t.value.map(([k, v]) => [term(k), term(v)]) };
    case 'arraycomprehension': case 'setcomprehension':
      return { type: t.type, value: { term: term(t.value.term), body: body(t.value.body) } };
    case 'objectcomprehension':
      return { type: t.type, value: { key: term(t.value.key), value: term(t.value.value), body: body(t.value.body) } };
    case 'templatestring':
      throw new BuiltinError('rego.parse_module', 'template strings are not supported in parsed modules yet');
  }
}

function exprTerms(x: Expr['terms']): unknown {
  if (Array.isArray(x)) return x.map(term);
  switch (x.type) {
    case 'some':
      return { symbols: x.symbols.map(term) };
    case 'every':
      return { key: x.key === null ? null : term(x.key), value: term(x.value), domain: term(x.domain), body: body(x.body) };
    case 'not': case 'logicaland': case 'logicalor':
      throw new BuiltinError('rego.parse_module', `${x.type} expressions are not supported in parsed modules yet`);
    default:
      return term(x);
  }
}

function body(b: Body): unknown[] {
  return b.map((e) => {
    const out: JsonObject = { index: e.index };
    if (e.generated) out.generated = true;
    if (e.negated) out.negated = true;
    out.terms = exprTerms(e.terms);
    if (e.with) out.with = e.with.map((w) => ({ target: term(w.target), value: term(w.value) }));
    return out;
  });
}

function rule(r: Rule): JsonObject {
  const h = r.head;
  const head: JsonObject = h.name === '' ? { ref: h.ref.map(term) } : { name: h.name, ref: h.ref.map(term) };
  if (h.args) head.args = h.args.map(term);
  if (h.key) head.key = term(h.key);
  if (h.value) head.value = term(h.value);
  if (h.assign) head.assign = true;
  const out: JsonObject = { body: body(r.body), head };
  if (r.default) out.default = true;
  if (r.else) out.else = rule(r.else);
  return out;
}

function importJson(i: Import): JsonObject {
  return i.alias ? { alias: i.alias, path: term(i.path) } : { path: term(i.path) };
}

function moduleJson(m: Module): JsonObject {
  const out: JsonObject = { package: { path: m.package.path.map(term) } };
  if (m.imports.length > 0) out.imports = m.imports.map(importJson);
  if (m.rules.length > 0) out.rules = m.rules.map(rule);
  // OPA marshals a comment's text as Go bytes: base64.
  if (m.comments.length > 0) {
    out.comments = m.comments.map((c) => ({ Location: { col: c.loc.col, file: c.loc.file, row: c.loc.row }, Text: Buffer.from(c.text).toString('base64') }));
  }
  return out;
}

function parse(filename: unknown, source: unknown): JsonObject {
  const name = 'rego.parse_module';
  const { module, errors } = parseModule(str(name, 1, filename), str(name, 2, source));
  if (!module) throw new BuiltinError(name, errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  return moduleJson(module);
}

export const regoBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'rego.parse_module',
    decl: fn([arg('filename', t.string), arg('rego', t.string)], arg('output', t.objectOf(t.string, t.any))),
    host: parse,
  },
  // The annotations in effect for the rule being evaluated are known when it is compiled: the planner turns these
  // calls into constants (src/compiler/planner/metadata.ts).
  {
    name: 'rego.metadata.chain',
    decl: fn([], arg('chain', t.arrayOf(t.any))),
    planner: true,
  },
  {
    name: 'rego.metadata.rule',
    decl: fn([], arg('output', t.any)),
    planner: true,
  },
];
