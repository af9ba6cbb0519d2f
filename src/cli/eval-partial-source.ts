// `verdict eval -p --format source`: the partial result as Rego, as `opa eval -p --format source` prints it:
// "# Query N" and each residual query's expressions one per line, a blank line after each query, then
// "# Module N" and each support module. The text is written from the residual AST, then read back and
// printed by `verdict fmt`'s formatter, so it is spelled as `opa fmt` spells it.
import type { Body, Expr, Term } from '../compiler/ast.js';
import { INFIX_OPERATORS, RegoText, isIdentifier } from '../compiler/rego-text.js';
import { formatSource } from '../compiler/format/format.js';
import type { PartialResult, SupportRule } from '../compiler/partial/evaluator.js';

/**
 * A printer for one query or one module. Every operator Rego writes infix is written so, nested calls too, as
 * the formatter is to lay them out. A generated variable (`$_term_1_0`, `$0`) is written `_` where it occurs
 * once, and where it occurs more than once under its own name with an underscore first (`_term_1_0`, `_0`),
 * as OPA's formatter writes them, so that the text reads back with the variable shared.
 */
function printer(nodes: unknown): { exprText: (e: Expr) => string; termText: (t: Term) => string } {
  const counts = new Map<string, number>();
  countGenerated(nodes, counts);
  const source = new RegoText({
    infix: { ...INFIX_OPERATORS, 'internal.member_2': 'in', 'internal.member_3': 'in' },
    nestedInfix: true,
    infixOutput: true,
    varText: (name) => {
      if (!name.startsWith('$')) return name;
      if ((counts.get(name) ?? 0) < 2) return '_';
      const rest = name.slice(1);
      return rest.startsWith('_') ? rest : `_${rest}`;
    },
    refuse: (what) => {
      throw new Error(`internal: a residual ${what} cannot be printed as Rego`);
    },
  });
  return { exprText: (e) => source.expr(e), termText: (t) => source.term(t) };
}

function countGenerated(node: unknown, counts: Map<string, number>): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((x) => countGenerated(x, counts));
  const t = node as { type?: unknown; value?: unknown };
  if (t.type === 'var' && typeof t.value === 'string') {
    if (t.value.startsWith('$')) counts.set(t.value, (counts.get(t.value) ?? 0) + 1);
    return;
  }
  for (const [key, child] of Object.entries(node)) if (key !== 'loc') countGenerated(child, counts);
}

export function partialSourceText(result: PartialResult): string {
  let out = '';
  result.queries.forEach((query, i) => {
    out += `# Query ${i + 1}\n${queryText(query)}\n`;
  });
  supportModules(result.support).forEach((text, i) => {
    out += `# Module ${i + 1}\n${text}`;
  });
  return out;
}

/** A residual query's expressions, one per line, as the formatter prints a rule body. */
function queryText(body: Body): string {
  if (body.length === 0) return '';
  const { exprText } = printer(body);
  const formatted = format(`package q\n\nq if {\n${body.map(exprText).join('\n')}\n}\n`);
  const lines = formatted.split('\n');
  const open = lines.indexOf('q if {');
  if (open < 0) {
    const one = lines.find((l) => l.startsWith('q if '));
    if (one === undefined) throw new Error(`internal: unexpected formatted query: ${formatted}`);
    return `${one.slice('q if '.length)}\n`;
  }
  const close = lines.lastIndexOf('}');
  return lines.slice(open + 1, close).map((l) => `${l.replace(/^\t/, '')}\n`).join('');
}

/** Support rules grouped in modules by package (data.partial.<package>), in the order their rules came. */
function supportModules(rules: SupportRule[]): string[] {
  const modules = new Map<string, SupportRule[]>();
  for (const rule of rules) {
    const key = rule.path.slice(0, -1).join('.');
    if (!modules.has(key)) modules.set(key, []);
    modules.get(key)!.push(rule);
  }
  return [...modules].map(([key, members]) => {
    const print = printer(members);
    const texts = members.map((rule) => ruleText(rule, print));
    return format(`package ${['partial', ...(key === '' ? [] : key.split('.'))].map(segment).join('.')}\n\n${texts.join('\n\n')}\n`);
  });
}

function segment(name: string): string {
  return isIdentifier(name) ? name : `[${JSON.stringify(name)}]`;
}

function ruleText(rule: SupportRule, { exprText, termText }: ReturnType<typeof printer>): string {
  const name = rule.path[rule.path.length - 1]!;
  const head = name + (rule.ref ?? []).map((t) => `[${termText(t)}]`).join('') + (rule.args ? `(${rule.args.map(termText).join(', ')})` : '');
  const value = termText(rule.value);
  if (rule.default) return `default ${head} := ${value}`;
  const start = rule.kind === 'set' ? `${head} contains ${value}` : `${head} := ${value}`;
  const body = rule.body.filter((e) => !e.generated);
  if (body.length === 0) return start;
  if (body.length === 1) return `${start} if ${exprText(body[0]!)}`;
  return `${start} if {\n${body.map((e) => `\t${exprText(e)}`).join('\n')}\n}`;
}

function format(source: string): string {
  const result = formatSource('partial.rego', source, 'v1');
  if (result.text === undefined) throw new Error(`internal: the partial result does not read back as Rego: ${result.errors.map((e) => e.message).join('; ')}\n${source}`);
  return result.text;
}
