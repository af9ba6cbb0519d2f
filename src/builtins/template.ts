// strings.render_template: the part of Go's text/template that policies use — {{.field.path}},
// {{$var}}, {{if}}/{{else}}/{{end}}, {{range [$i,] $v := pipeline}}, {{with}}, trim markers. A missing
// map key prints as Go's "<no value>", which OPA rewrites to "<undefined>".
import { BuiltinError, obj, str, type JsonObject } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'print'; expr: string }
  | { kind: 'if' | 'with'; expr: string; then: Node[]; else: Node[] }
  | { kind: 'range'; expr: string; keyVar?: string; valueVar?: string; body: Node[]; else: Node[] };

const NAME = 'strings.render_template';

function fail(message: string): never {
  throw new BuiltinError(NAME, `template: ${message}`);
}

/** Splits into text and actions, applying "{{-" and "-}}" whitespace trimming. */
function tokens(template: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{{');
    if (open < 0) {
      out.push({ text: rest });
      break;
    }
    let text = rest.slice(0, open);
    const close = rest.indexOf('}}', open);
    if (close < 0) fail('unclosed action');
    let action = rest.slice(open + 2, close);
    if (action.startsWith('- ')) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    let after = rest.slice(close + 2);
    if (action.endsWith(' -')) {
      action = action.slice(0, -1);
      after = after.replace(/^\s+/, '');
    }
    if (text !== '') out.push({ text });
    out.push({ action: action.trim() });
    rest = after;
  }
  return out;
}

function parse(template: string): Node[] {
  const toks = tokens(template);
  let i = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < toks.length) {
      const t = toks[i++]!;
      if (t.text !== undefined) {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.action!;
      const word = a.split(/\s+/)[0]!;
      if (terminators.includes(word)) return { nodes, end: word };
      if (a.startsWith('/*')) continue;
      if (word === 'if' || word === 'with' || word === 'range') {
        let expr = a.slice(word.length).trim();
        const body = block(['else', 'end']);
        const otherwise = body.end === 'else' ? block(['end']).nodes : [];
        if (word === 'range') {
          const decl = /^(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*(.+)$/.exec(expr);
          let keyVar: string | undefined;
          let valueVar: string | undefined;
          if (decl) {
            [keyVar, valueVar] = decl[2] ? [decl[1], decl[2]] : [undefined, decl[1]];
            expr = decl[3]!;
          }
          nodes.push({ kind: 'range', expr, keyVar, valueVar, body: body.nodes, else: otherwise });
        } else nodes.push({ kind: word, expr, then: body.nodes, else: otherwise });
        continue;
      }
      nodes.push({ kind: 'print', expr: a });
    }
    if (terminators.length > 0) fail('unexpected EOF');
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

/** What a missing map key evaluates to (Go's invalid reflect.Value). */
const NO_VALUE = Symbol('no value');

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
}

function evaluate(expr: string, scope: Scope): unknown {
  const e = expr.trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(e)) return JSON.parse(e) as string;
  if (/^-?[0-9]+(\.[0-9]+)?$/.test(e)) return Number(e);
  if (e === 'true' || e === 'false') return e === 'true';
  const m = /^(\$\w*|\.)?((?:\.[A-Za-z_]\w*)*)$/.exec(e.replace(/^\.(?=[A-Za-z_])/, '..'));
  if (!m) fail(`unsupported pipeline ${JSON.stringify(e)}`);
  let value: unknown;
  const head = m![1] ?? '.';
  if (head === '.') value = scope.dot;
  else if (scope.vars.has(head)) value = scope.vars.get(head);
  else fail(`undefined variable "${head}"`);
  for (const field of (m![2] ?? '').split('.').filter((f) => f !== '')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`executing at <.${field}>: can't evaluate field ${field}`);
    value = field in (value as JsonObject) ? (value as JsonObject)[field] : NO_VALUE;
  }
  return value;
}

function truthy(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's fmt %v for JSON values (maps print with sorted keys). */
function printGo(v: unknown): string {
  if (v === NO_VALUE) return '<undefined>';
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(printGo).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as JsonObject;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${printGo(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

function render(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text': out += n.text; break;
      case 'print': out += printGo(evaluate(n.expr, scope)); break;
      case 'if': out += render(truthy(evaluate(n.expr, scope)) ? n.then : n.else, scope); break;
      case 'with': {
        const v = evaluate(n.expr, scope);
        out += truthy(v) ? render(n.then, { ...scope, dot: v }) : render(n.else, scope);
        break;
      }
      case 'range': {
        const v = evaluate(n.expr, scope);
        const entries: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v !== null && typeof v === 'object'
            ? Object.keys(v).sort().map((k) => [k, (v as JsonObject)[k]])
            : [];
        if (entries.length === 0) out += render(n.else, scope);
        for (const [k, x] of entries) {
          const vars = new Map(scope.vars);
          if (n.keyVar) vars.set(n.keyVar, k);
          if (n.valueVar) vars.set(n.valueVar, x);
          out += render(n.body, { dot: x, vars });
        }
        break;
      }
    }
  }
  return out;
}

export const templateBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'strings.render_template',
    decl: fn([arg('value', t.string), arg('vars', t.objectOf(t.string, t.any))], arg('result', t.string)),
    categories: ['strings'],
    host: (template: unknown, vars: unknown) => {
      const data = obj(NAME, 2, vars);
      return render(parse(str(NAME, 1, template)), { dot: data, vars: new Map([['$', data]]) });
    },
  },
];
