// `verdict parse [--format pretty|json] [--json-include [-]comments,[-]locations] [--v0-compatible] FILE`: prints the
// module Verdict's parser builds, as `opa parse` does: OPA's AST JSON (through the one AST-JSON encoder, shared
// with partial evaluation) or OPA's indented tree.
import { readFileSync } from 'node:fs';
import type { Body, Expr, Module, Rule, Term } from '../compiler/ast.js';
import { isTerm } from '../compiler/ast.js';
import { parseModule } from '../compiler/parse-module.js';
import { compareTerms } from '../compiler/partial/ast-json.js';
import { FlagError, flagsHelp, parseCommandLine, regoVersionFlag, type FlagGroup } from './flags.js';
import { goJson } from './go-format.js';
import { moduleJson } from './parse-json.js';

const parseFlagGroups: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: 'pretty or json (default pretty)' },
      'json-include': { type: 'string', value: 'LIST', help: 'include or exclude optional elements: comments (included by default), locations; e.g. locations,-comments' },
      'v0-compatible': { type: 'boolean', help: 'parse the module as Rego v0' },
      help: { type: 'boolean', short: 'h', help: 'print this help' },
    },
  },
];

export function parseHelp(): string {
  return flagsHelp(['usage: verdict parse [flags] FILE', '', "Prints the module Verdict's parser builds from FILE, as opa parse does."], parseFlagGroups);
}

/** The optional elements `--json-include` asks for: `comments` is on unless `-comments`, `locations` off unless named. */
function jsonInclude(spec: string | undefined): { comments: boolean; locations: boolean } {
  const include = { comments: true, locations: false };
  for (const item of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const on = !item.startsWith('-');
    const name = item.replace(/^[+-]/, '');
    if (name !== 'comments' && name !== 'locations') throw new FlagError(`--json-include ${item}: expected comments or locations, each optionally prefixed with -`);
    include[name] = on;
  }
  return include;
}

export async function parseCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    name: 'parse',
    groups: parseFlagGroups,
    help: parseHelp,
    formats: ['pretty', 'json'],
    operands: { count: 'one', name: 'file' },
    validate: (values, positionals) => {
      jsonInclude(values['json-include'] as string | undefined);
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
  const result = parseModule(file, source, { regoVersion: regoVersionFlag(values) });
  if (!result.module || result.errors.length > 0) {
    const errors = result.errors.map(({ message, code, location, details }) => ({ message, code, location, ...(details ? { details } : {}) }));
    console.error(goJson({ errors }, 2));
    return 1;
  }
  const include = jsonInclude(values['json-include'] as string | undefined);
  let text: string;
  try {
    text = values.format === 'json' ? goJson(moduleJson(result.module, { ...include, source }), 2) : prettyModule(result.module);
  } catch (err) {
    // The `and`/`or`/`not { }` expressions of future.keywords have no AST JSON in Verdict yet.
    console.error(`verdict parse: ${(err as Error).message}`);
    return 1;
  }
  console.log(text);
  return 0;
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
