// `verdict parse [--format pretty|json] [--json-include comments,-comments] [--v0-compatible] FILE`: prints the
// module Verdict's parser builds, as `opa parse` does: OPA's AST JSON (through the one AST-JSON encoder, shared
// with partial evaluation) or OPA's indented tree.
import { readFileSync } from 'node:fs';
import type { Body, Expr, Import, Module, Rule, Term } from '../compiler/ast.js';
import { isTerm } from '../compiler/ast.js';
import { parseModule } from '../compiler/parse-module.js';
import { compareTerms, exprJson, termJson, type AstJson } from '../compiler/partial/ast-json.js';
import { FlagError, flagsHelp, parseCommandLine, type FlagGroup } from './flags.js';
import { goJson } from './go-format.js';

const parseFlagGroups: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: 'pretty or json (default pretty)' },
      'json-include': { type: 'string', value: 'LIST', help: 'comments (the default) or -comments; locations are refused' },
      'v0-compatible': { type: 'boolean', help: 'parse the module as Rego v0' },
      help: { type: 'boolean', short: 'h', help: 'print this help' },
    },
  },
];

export function parseHelp(): string {
  return flagsHelp(['usage: verdict parse [flags] FILE', '', "Prints the module Verdict's parser builds from FILE, as opa parse does."], parseFlagGroups);
}

/** Whether comments are included; `locations` is refused (Verdict's JSON carries no locations). */
function includeComments(spec: string | undefined): boolean {
  let comments = true;
  for (const item of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (item === 'comments' || item === '+comments') comments = true;
    else if (item === '-comments') comments = false;
    else if (item === '-locations') continue;
    else throw new FlagError(`--json-include ${item}: not supported (Verdict prints comments or -comments, without locations)`);
  }
  return comments;
}

export async function parseCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    name: 'parse',
    groups: parseFlagGroups,
    help: parseHelp,
    validate: (values, positionals) => {
      if (values.format !== 'pretty' && values.format !== 'json') throw new FlagError(`--format ${String(values.format)}: expected pretty or json`);
      if (positionals.length !== 1) throw new FlagError('specify exactly one file');
      includeComments(values['json-include'] as string | undefined);
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const file = positionals[0];
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    console.error(goJson({ errors: [{ message: `open ${file}: no such file or directory` }] }, 2));
    return 1;
  }
  const result = parseModule(file, source, { regoVersion: values['v0-compatible'] ? 'v0' : 'v1' });
  if (!result.module || result.errors.length > 0) {
    const errors = result.errors.map(({ message, code, location, details }) => ({ message, code, location, ...(details ? { details } : {}) }));
    console.error(goJson({ errors }, 2));
    return 1;
  }
  const comments = includeComments(values['json-include'] as string | undefined);
  let text: string;
  try {
    text = values.format === 'json' ? goJson(moduleJson(result.module, comments), 2) : prettyModule(result.module);
  } catch (err) {
    // The `and`/`or`/`not { }` expressions of future.keywords have no AST JSON in Verdict yet.
    console.error(`verdict parse: ${(err as Error).message}`);
    return 1;
  }
  console.log(text);
  return 0;
}

export function moduleJson(module: Module, comments: boolean): AstJson {
  const out: AstJson = { package: { path: module.package.path.map(termJson) } };
  if (module.imports.length > 0) out.imports = module.imports.map(importJson);
  if (module.rules.length > 0) out.rules = module.rules.map(ruleJson);
  if (comments && module.comments.length > 0) {
    out.comments = module.comments.map((c) => ({ Text: Buffer.from(c.text).toString('base64'), Location: { file: c.loc.file, row: c.loc.row, col: c.loc.col } }));
  }
  return out;
}

function importJson(imp: Import): AstJson {
  return { ...(imp.alias ? { alias: imp.alias } : {}), path: termJson(imp.path) };
}

function ruleJson(rule: Rule): AstJson {
  const head = rule.head;
  const headJson: AstJson = {};
  if (head.name) headJson.name = head.name;
  if (head.args) headJson.args = head.args.map(termJson);
  if (head.key) headJson.key = termJson(head.key);
  if (head.value) headJson.value = termJson(head.value);
  if (head.assign) headJson.assign = true;
  headJson.ref = head.ref.map(termJson);
  const out: AstJson = { body: rule.body.map(exprJson) };
  if (rule.default) out.default = true;
  if (rule.else) out.else = ruleJson(rule.else);
  out.head = headJson;
  return out;
}

/** OPA's pretty tree: one node per line, each level indented by one more space. */
function prettyModule(module: Module): string {
  const lines: string[] = [];
  const line = (depth: number, text: string) => lines.push(`${' '.repeat(depth)}${text}`);
  const term = (t: Term, d: number): void => {
    switch (t.type) {
      case 'null': line(d, 'null'); return;
      case 'boolean': case 'number': line(d, String(t.value)); return;
      case 'string': line(d, JSON.stringify(t.value)); return;
      case 'var': line(d, t.value.startsWith('$') ? '_' : t.value); return;
      case 'ref': case 'array': case 'call':
        line(d, t.type);
        for (const c of t.value) term(c, d + 1);
        return;
      case 'set':
        line(d, t.type);
        for (const c of [...t.value].sort(compareTerms)) term(c, d + 1);
        return;
      case 'object':
        line(d, 'object');
        for (const [k, v] of [...t.value].sort(([a], [b]) => compareTerms(a, b))) {
          term(k, d + 1);
          term(v, d + 1);
        }
        return;
      case 'arraycomprehension': case 'setcomprehension':
        line(d, t.type);
        term(t.value.term, d + 1);
        body(t.value.body, d + 1);
        return;
      case 'objectcomprehension':
        line(d, t.type);
        term(t.value.key, d + 1);
        term(t.value.value, d + 1);
        body(t.value.body, d + 1);
        return;
      case 'templatestring': line(d, t.type);
    }
  };
  const expr = (e: Expr, d: number): void => {
    line(d, `expr${e.negated ? ' negated' : ''} index=${e.index}`);
    const terms = e.terms;
    if (Array.isArray(terms)) for (const t of terms) term(t, d + 1);
    else if (isTerm(terms)) term(terms, d + 1);
    else if (terms.type === 'some') {
      line(d + 1, 'somedecl');
      for (const s of terms.symbols) term(s, d + 2);
    } else if (terms.type === 'every') {
      line(d + 1, 'every');
      if (terms.key) term(terms.key, d + 2);
      term(terms.value, d + 2);
      term(terms.domain, d + 2);
      body(terms.body, d + 2);
    } else throw new Error(`no pretty form for a ${terms.type} expression`);
    for (const w of e.with ?? []) {
      line(d + 1, 'with');
      term(w.target, d + 2);
      term(w.value, d + 2);
    }
  };
  const body = (b: Body, d: number) => {
    line(d, 'body');
    for (const e of b) expr(e, d + 1);
  };
  const rule = (r: Rule, d: number): void => {
    line(d, 'rule');
    line(d + 1, 'head');
    line(d + 2, 'ref');
    for (const t of r.head.ref) term(t, d + 3);
    if (r.head.args) {
      line(d + 2, 'args');
      for (const t of r.head.args) term(t, d + 3);
    }
    if (r.head.value) term(r.head.value, d + 2);
    body(r.body, d + 1);
    if (r.else) rule(r.else, d + 1);
  };
  line(0, 'module');
  line(1, 'package');
  line(2, 'ref');
  for (const t of module.package.path) term(t, 3);
  for (const imp of module.imports) {
    line(1, 'import');
    term(imp.path, 2);
    if (imp.alias) line(2, imp.alias);
  }
  for (const r of module.rules) rule(r, 1);
  for (let i = 0; i < module.comments.length; i++) line(1, 'comment');
  return lines.join('\n');
}
