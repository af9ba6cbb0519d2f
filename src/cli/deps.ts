// `verdict deps [-d PATH]... [-b PATH]... [--format pretty|json] QUERY`, as `opa deps`: the base documents (input
// and data not produced by rules) and the virtual documents (rules and functions) the query depends on, following
// the rules it reaches. A reference counts up to its first non-constant part; references under another listed one
// are left out; lists are sorted (numbers in a reference sort as OPA's `[0]` does only approximately).
import type { Body, Module, Rule, Term } from '../compiler/ast.js';
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { checkParsedModules, parseRegoFiles, RegoCompileError } from '../compiler/compile-rego.js';
import { QUERY_PACKAGE, queryModule } from '../compiler/query.js';
import { flagsHelp, parseCommandLine, regoVersionFlag, sharedFlags, type FlagGroup } from './flags.js';
import { goErrorList, goJson } from './go-format.js';
import { formatRegoError } from '../compiler/errors.js';
import { LoadError, loadBundlePaths, loadPaths } from './load.js';
import { prettyTable } from './pretty-table.js';
import { nameSegment } from '../compiler/rego-text.js';

const depsFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      data: { type: 'string', short: 'd', multiple: true, value: 'PATH', help: 'policy or data file or directory; repeatable' },
      bundle: { type: 'string', short: 'b', multiple: true, value: 'PATH', help: 'bundle directory or .tar.gz file; repeatable' },
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: 'pretty or json (default pretty)' },
      ignore: sharedFlags.ignore,
      'v0-compatible': sharedFlags['v0-compatible'],
      help: sharedFlags.help,
    },
  },
];

export function depsHelp(): string {
  return flagsHelp(
    [
      'usage: verdict deps [flags] QUERY',
      '',
      'Prints the base documents (input, data) and virtual documents (rules, functions) QUERY depends on, as opa deps',
      'does. Exit code: 0, or 1 when the policies or the query do not load or compile.',
    ],
    depsFlags,
  );
}

type Path = string[];

export async function depsCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    name: 'deps',
    groups: depsFlags,
    help: depsHelp,
    formats: ['pretty', 'json'],
    operands: { count: 'one', name: 'query argument' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  let deps: { base: Path[]; virtual: Path[] };
  try {
    const ignore = values.ignore as string[] | undefined;
    const fromData = await loadPaths((values.data as string[] | undefined) ?? [], { ignore });
    const fromBundles = await loadBundlePaths((values.bundle as string[] | undefined) ?? [], { ignore });
    const regoVersion = regoVersionFlag(values);
    const modules = parseRegoFiles([...fromData.modules, ...fromBundles.modules], { regoVersion });
    const query = queryModule(positionals[0]!);
    const [queryParsed] = parseRegoFiles([query.file], {});
    // The policies are compiled and must be valid; the query is only parsed, as `opa deps` takes it: no safety,
    // type or undefined-function check, so a query OPA would refuse to evaluate still shows what it reads.
    checkParsedModules(modules, { builtins: verdictBuiltins, deprecated: verdictDeprecated });
    deps = dependencies(modules, queryParsed!);
  } catch (err) {
    if (err instanceof LoadError) console.error(goErrorList([err.message], ' during loading'));
    else if (err instanceof RegoCompileError) console.error(goErrorList(err.errors.map(formatRegoError)));
    else throw err;
    return 1;
  }
  if (values.format === 'json') {
    const terms = (p: Path) => p.map((value, i) => (i === 0 ? { type: 'var', value } : value.startsWith('#') ? { type: 'number', value: Number(value.slice(1)) } : { type: 'string', value }));
    const out = { ...(deps.base.length ? { base: deps.base.map(terms) } : {}), ...(deps.virtual.length ? { virtual: deps.virtual.map(terms) } : {}) };
    process.stdout.write(`${goJson(out, 2)}\n`);
    return 0;
  }
  const columns = [['BASE DOCUMENTS', deps.base], ['VIRTUAL DOCUMENTS', deps.virtual]] as const;
  const shown = columns.filter(([, list]) => list.length > 0);
  if (shown.length === 0) return 0;
  const height = Math.max(...shown.map(([, list]) => list.length));
  const rows = Array.from({ length: height }, (_, i) => shown.map(([, list]) => (list[i] ? pathText(list[i]) : '')));
  process.stdout.write(`${prettyTable(shown.map(([title]) => title), rows)}\n`);
  return 0;
}

/** The rules by their path under data (package path and the constant part of the head). */
function ruleIndex(modules: Module[]): Map<string, { path: Path; rules: Rule[] }> {
  const index = new Map<string, { path: Path; rules: Rule[] }>();
  for (const m of modules) {
    const pkg = m.package.path.slice(1).map((t) => String((t as { value: unknown }).value));
    for (const r of m.rules) {
      const path = ['data', ...pkg, ...constantHead(r.head.ref)];
      const key = path.join('\0');
      index.set(key, { path, rules: [...(index.get(key)?.rules ?? []), r] });
    }
  }
  return index;
}

function constantHead(ref: Term[]): string[] {
  const out: string[] = [];
  for (const [i, t] of ref.entries()) {
    if (t.type === 'string' || (i === 0 && t.type === 'var')) out.push(t.value);
    else break;
  }
  return out;
}

function dependencies(modules: Module[], query: Module): { base: Path[]; virtual: Path[] } {
  const rules = ruleIndex(modules);
  const base = new Map<string, Path>();
  const virtual = new Map<string, Path>();
  const visit = (path: Path): void => {
    for (let n = 2; n <= path.length; n++) {
      const hit = rules.get(path.slice(0, n).join('\0'));
      if (hit) return enter(hit);
    }
    const prefix = path.join('\0');
    const under = [...rules.values()].filter((r) => r.path.length > path.length && r.path.join('\0').startsWith(`${prefix}\0`));
    if (path[0] === 'data' && under.length > 0) under.forEach(enter);
    else base.set(prefix, path);
  };
  const enter = (r: { path: Path; rules: Rule[] }): void => {
    const key = r.path.join('\0');
    if (virtual.has(key)) return;
    virtual.set(key, r.path);
    for (const first of r.rules) for (let d: Rule | undefined = first; d; d = d.else) rule(d);
  };
  const rule = (d: Rule): void => {
    [d.head.key, d.head.value, ...(d.head.args ?? [])].forEach((t) => t && term(t));
    body(d.body);
  };
  const term = (t: Term): void => {
    switch (t.type) {
      case 'ref': {
        const head = t.value[0]!;
        if (head.type === 'var' && (head.value === 'input' || head.value === 'data')) visit(groundPrefix(t.value));
        t.value.slice(1).forEach(term);
        return;
      }
      case 'call': t.value.forEach(term); return;
      case 'array': case 'set': t.value.forEach(term); return;
      case 'object': t.value.flat().forEach(term); return;
      case 'arraycomprehension': case 'setcomprehension': term(t.value.term); body(t.value.body); return;
      case 'objectcomprehension': term(t.value.key); term(t.value.value); body(t.value.body); return;
      default:
    }
  };
  const body = (b: Body): void => {
    for (const e of b) {
      const x = e.terms;
      if (Array.isArray(x)) x.forEach(term);
      else if ('type' in x && (x.type === 'some')) x.symbols.forEach(term);
      else if ('type' in x && x.type === 'every') {
        term(x.domain);
        body(x.body);
      } else if ('type' in x && x.type === 'not') body(x.body);
      else if ('type' in x && (x.type === 'logicaland' || x.type === 'logicalor')) {
        body(x.lhs);
        body(x.rhs);
      } else term(x as Term);
      for (const w of e.with ?? []) term(w.value);
    }
  };
  for (const r of query.rules) rule(r);
  const sorted = (m: Map<string, Path>) => minimal([...m.values()].filter((p) => p[1] !== QUERY_PACKAGE));
  return { base: sorted(base), virtual: sorted(virtual) };
}

/** The reference up to its first part that is not a constant string or number (a number is kept as `#n`). */
function groundPrefix(ref: Term[]): Path {
  const out = [(ref[0] as { value: string }).value];
  for (const t of ref.slice(1)) {
    if (t.type === 'string') out.push(t.value);
    else if (t.type === 'number') out.push(`#${t.value}`);
    else break;
  }
  return out;
}

/** A path as OPA prints a reference: `input.a["x-y"][0]`. */
function pathText(p: Path): string {
  return p.map((s, i) => (i === 0 ? s : s.startsWith('#') ? `[${s.slice(1)}]` : nameSegment(s))).join('');
}

/** Sorted, without the paths another one in the list is a prefix of. */
function minimal(paths: Path[]): Path[] {
  const keys = paths.map((p) => p.join('\0')).sort();
  return keys.filter((k) => !keys.some((o) => o !== k && k.startsWith(`${o}\0`))).map((k) => k.split('\0'));
}
