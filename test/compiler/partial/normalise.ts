// Residual queries compared as OPA's and ours may differ without differing in meaning: generated variable
// names, the order of a unification's operands, the order of expressions in a query and of queries (a
// disjunction of conjunctions), an expression repeated in one conjunction. Each expression becomes a canonical
// text with variables numbered in order of appearance within its query, and the query a sorted list of them.
// Closures (comprehensions, `every`) are written out in full, their variables numbered on with the query's.
// `inOperandOrder` compares with the operands of `=` as written, for the count of answers in OPA's exact form.
type Json = Record<string, unknown>;

let keepOperandOrder = false;

/** Runs `f` with the normalisation keeping the order of a unification's operands. */
export function inOperandOrder<T>(f: () => T): T {
  keepOperandOrder = true;
  try {
    return f();
  } finally {
    keepOperandOrder = false;
  }
}

/** Reference heads kept as written: the documents, and the names of functions in calls. */
const ROOTS = new Set(['input', 'data']);

/** `vars` numbers variables in order of appearance; null writes every variable as V. */
function termText(t: Json, vars: Map<string, string> | null): string {
  const value = t.value as unknown;
  switch (t.type) {
    case 'var': {
      const name = value as string;
      if (!vars) return 'V';
      if (!vars.has(name)) vars.set(name, `V${vars.size}`);
      return vars.get(name)!;
    }
    case 'ref': return (value as Json[]).map((x, i) => (i === 0 && x.type === 'var' ? (ROOTS.has(x.value as string) ? (x.value as string) : termText(x, vars)) : `[${termText(x, vars)}]`)).join('');
    case 'array': return `[${(value as Json[]).map((x) => termText(x, vars)).join(',')}]`;
    case 'set': return `{${(value as Json[]).map((x) => termText(x, vars)).sort().join(',')}}`;
    case 'object': return `{${(value as [Json, Json][]).map(([k, v]) => `${termText(k, vars)}:${termText(v, vars)}`).sort().join(',')}}`;
    case 'call': return `${opName((value as Json[])[0]!)}(${(value as Json[]).slice(1).map((x) => termText(x, vars)).join(',')})`;
    case 'null': return 'null';
    case 'arraycomprehension': case 'setcomprehension': {
      const c = value as { term: Json; body: Json[] };
      const [open, close] = t.type === 'arraycomprehension' ? ['[', ']'] : ['{', '}'];
      return `${open}${termText(c.term, vars)} | ${bodyText(c.body, vars)}${close}`;
    }
    case 'objectcomprehension': {
      const c = value as { key: Json; value: Json; body: Json[] };
      return `{${termText(c.key, vars)}:${termText(c.value, vars)} | ${bodyText(c.body, vars)}}`;
    }
    default: return JSON.stringify(value);
  }
}

/** An operator's name as written (`eq`, `data.partial.f`): never a numbered variable. */
function opName(op: Json): string {
  return (op.value as Json[]).map((x, i) => (i === 0 ? (x.value as string) : `[${JSON.stringify(x.value)}]`)).join('');
}

function exprText(e: Json, vars: Map<string, string> | null): string {
  const terms = e.terms as Json | Json[];
  let text: string;
  if (Array.isArray(terms)) {
    let [op, ...args] = terms;
    // `x = f(a)` is `f(a, x)`: the call with its output argument.
    const call = args.length === 2 && ['eq', 'equal'].includes(opName(op!)) ? args.findIndex((a) => a.type === 'call') : -1;
    if (call >= 0) [op, ...args] = [...(args[call]!.value as Json[]), args[1 - call]!];
    const name = opName(op!);
    const symmetric = !keepOperandOrder && (name === 'eq' || name === 'equal');
    // A unification's operands are numbered in their order with variables blanked, not as written.
    if (symmetric) args = args.map((a) => ({ a, key: termText(a, null) })).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).map(({ a }) => a);
    let parts = args.map((a) => termText(a, vars));
    if (symmetric) parts = parts.sort();
    text = `${name === 'equal' ? 'eq' : name}(${parts.join(',')})`;
  } else if ('domain' in terms) {
    const every = terms as { key: Json | null; value: Json; domain: Json; body: Json[] };
    text = `every ${every.key ? `${termText(every.key, vars)},` : ''}${termText(every.value, vars)} in ${termText(every.domain, vars)} { ${bodyText(every.body, vars)} }`;
  } else text = termText(terms, vars);
  // `with` modifiers are part of the expression's meaning.
  for (const w of (e.with as Json[] | undefined) ?? []) text += ` with ${termText(w.target as Json, vars)} as ${termText(w.value as Json, vars)}`;
  return e.negated ? `not ${text}` : text;
}

/** A closure's body, its expressions in their order (variables numbered on through the enclosing query). */
function bodyText(body: Json[], vars: Map<string, string> | null): string {
  return body.map((e) => exprText(e, vars)).join('; ');
}

/** A query as sorted canonical expressions. Variables are numbered after a first pass with them blanked. */
export function normaliseQuery(query: Json[]): string[] {
  const order = query.map((e) => ({ e, key: exprText(e, null) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const vars = new Map<string, string>();
  return [...new Set(order.map(({ e }) => exprText(e, vars)))].sort();
}

export function normaliseQueries(queries: Json[][]): string[][] {
  return queries.map(normaliseQuery).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** Support modules as sorted "package: head :- body" texts. */
export function normaliseSupport(modules: Json[]): string[] {
  const out: string[] = [];
  for (const m of modules) {
    const pkg = termText({ type: 'ref', value: (m.package as Json).path }, null);
    for (const rule of m.rules as Json[]) {
      const head = rule.head as Json;
      const vars = new Map<string, string>();
      const value = head.value ? termText(head.value as Json, vars) : '';
      const key = head.key ? termText(head.key as Json, vars) : '';
      // A head without a name (`p[x].q := v`) is written as its reference.
      const name = (head.name as string | undefined) ?? (head.ref as Json[]).map((x, i) => (i === 0 ? (x.value as string) : `[${termText(x, vars)}]`)).join('');
      const body = normaliseQuery(rule.body as Json[]);
      out.push(`${pkg}: ${rule.default ? 'default ' : ''}${name}${key ? `[${key}]` : ''}${value ? ` = ${value}` : ''} :- ${body.join('; ')}`);
    }
  }
  return out.sort();
}

/** JSON text with object keys sorted, for exact comparisons: OPA and Verdict write an expression's fields in other orders. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
