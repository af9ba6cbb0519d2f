// `verdict eval -p --format source`: the partial result as Rego, as `opa eval -p --format source` prints it:
// "# Query N" and each residual query's expressions one per line, a blank line after each query, then
// "# Module N" and each support module. The text is written from the residual AST, then read back and
// printed by `verdict fmt`'s formatter, so it is spelled as `opa fmt` spells it.
import type { Body, Expr, Term } from '../compiler/ast.js';
import { isTerm } from '../compiler/ast.js';
import { formatSource } from '../compiler/format/format.js';
import type { PartialResult, SupportRule } from '../compiler/partial/evaluator.js';

const INFIX: Record<string, string> = {
  eq: '=', assign: ':=', equal: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=',
  plus: '+', minus: '-', mul: '*', div: '/', rem: '%', and: '&', or: '|',
};

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
  const modules = new Map<string, string[]>();
  for (const rule of rules) {
    const key = rule.path.slice(0, -1).join('.');
    if (!modules.has(key)) modules.set(key, []);
    modules.get(key)!.push(ruleText(rule));
  }
  return [...modules].map(([key, texts]) => format(`package ${['partial', ...(key === '' ? [] : key.split('.'))].map(segment).join('.')}\n\n${texts.join('\n\n')}\n`));
}

function segment(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `[${JSON.stringify(name)}]`;
}

function ruleText(rule: SupportRule): string {
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

function exprText(e: Expr): string {
  let text: string;
  const terms = e.terms;
  if (Array.isArray(terms)) text = callText(terms);
  else if (isTerm(terms)) text = termText(terms);
  else if (terms.type === 'some') text = `some ${terms.symbols.map(termText).join(', ')}`;
  else if (terms.type === 'every') text = `every ${terms.key ? `${termText(terms.key)}, ` : ''}${termText(terms.value)} in ${termText(terms.domain)} { ${bodyText(terms.body)} }`;
  else if (terms.type === 'not') text = `not { ${bodyText(terms.body)} }`;
  else throw new Error(`internal: a residual ${terms.type} expression cannot be printed as Rego`);
  for (const w of e.with ?? []) text += ` with ${termText(w.target)} as ${termText(w.value)}`;
  return e.negated ? `not ${text}` : text;
}

function bodyText(body: Body): string {
  return body.map(exprText).join('; ');
}

/** An operator call: infix where Rego has an operator (`a = b`, `x > 1`, `"x" in s`), else `f(args)`. */
function callText(terms: Term[]): string {
  const [op, ...args] = terms as [Term, ...Term[]];
  const name = op.type === 'ref' ? refName(op) : undefined;
  const infix = name !== undefined ? INFIX[name] : undefined;
  if (infix && args.length === 2) return `${operand(args[0]!)} ${infix} ${operand(args[1]!)}`;
  if (name === 'internal.member_2' && args.length === 2) return `${operand(args[0]!)} in ${operand(args[1]!)}`;
  if (name === 'internal.member_3' && args.length === 3) return `${operand(args[0]!)}, ${operand(args[1]!)} in ${operand(args[2]!)}`;
  return `${termText(op)}(${args.map(termText).join(', ')})`;
}

/** A nested call written infix is parenthesised; the formatter drops what is not needed. */
function operand(t: Term): string {
  const text = termText(t);
  return t.type === 'call' && isInfix(t.value) ? `(${text})` : text;
}

function isInfix(terms: Term[]): boolean {
  const [op, ...args] = terms;
  const name = op?.type === 'ref' ? refName(op) : undefined;
  if (name === undefined) return false;
  return (INFIX[name] !== undefined && args.length === 2) || (name === 'internal.member_2' && args.length === 2) || (name === 'internal.member_3' && args.length === 3);
}

/** `plus`, `internal.member_2`, `data.x.f`: a ref of a var and plain names, else undefined. */
function refName(t: Term & { type: 'ref' }): string | undefined {
  const [head, ...rest] = t.value;
  if (head?.type !== 'var' || !rest.every((s) => s.type === 'string')) return undefined;
  return [head.value, ...rest.map((s) => (s as { value: string }).value)].join('.');
}

function termText(t: Term): string {
  switch (t.type) {
    case 'null': return 'null';
    case 'boolean': return String(t.value);
    case 'number': return t.value;
    case 'string': return JSON.stringify(t.value);
    case 'var': return t.value.startsWith('$') ? '_' : t.value;
    case 'ref': return t.value.map((s, i) => (i === 0 ? termText(s) : s.type === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.value) ? `.${s.value}` : `[${termText(s)}]`)).join('');
    case 'array': return `[${t.value.map(termText).join(', ')}]`;
    case 'set': return t.value.length === 0 ? 'set()' : `{${t.value.map(termText).join(', ')}}`;
    case 'object': return `{${t.value.map(([k, v]) => `${termText(k)}: ${termText(v)}`).join(', ')}}`;
    case 'call': return callText(t.value);
    case 'arraycomprehension': return `[${termText(t.value.term)} | ${bodyText(t.value.body)}]`;
    case 'setcomprehension': return `{${termText(t.value.term)} | ${bodyText(t.value.body)}}`;
    case 'objectcomprehension': return `{${termText(t.value.key)}: ${termText(t.value.value)} | ${bodyText(t.value.body)}}`;
    case 'templatestring': throw new Error('internal: a residual template string cannot be printed as Rego');
  }
}
