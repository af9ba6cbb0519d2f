// CheckRuleConflicts: rules that define the same document must agree on its shape (OPA: v1/ast/compile.go
// checkRuleConflicts). Rules are grouped by the ground prefix of their path (data.pkg.p for `p[x] := ...`);
// a group may not mix single-value and multi-value rules, complete and partial rules, different function
// arities, or hold two defaults; and a complete rule may not have other rules inside its document.
import type { Location, Module, Rule, Term } from '../ast.js';
import type { CompileContext, Stage } from './context.js';
import { nameSegment } from '../rego-text.js';

interface Entry {
  rule: Rule;
  module: Module;
  path: Term[];
  /** Length of the ground prefix of path. */
  ground: number;
}

const SCALAR = new Set(['string', 'number', 'boolean', 'null']);

function segmentText(t: Term, rewritten: Map<string, string>): string {
  if (t.type === 'string') return nameSegment(t.value);
  if (t.type === 'var') return `[${rewritten.get(t.value) ?? t.value}]`;
  if (t.type === 'number' || t.type === 'boolean') return `[${String(t.value)}]`;
  return '[...]';
}

function pathText(path: Term[], rewritten: Map<string, string>): string {
  return path.map((t, i) => (i === 0 && t.type === 'var' ? t.value : segmentText(t, rewritten))).join('');
}

function key(path: Term[], n: number): string {
  return JSON.stringify(path.slice(0, n).map((t) => (t.type === 'var' ? `var:${t.value}` : `${t.type}:${String((t as { value?: unknown }).value)}`)));
}

const at = (loc: Location) => `${loc.file}:${loc.row}`;

export const checkRuleConflicts: Stage = {
  name: 'CheckRuleConflicts',
  run(ctx: CompileContext) {
    const groups = new Map<string, Entry[]>();
    const entries: Entry[] = [];
    for (const module of ctx.modules) {
      for (const rule of module.rules) {
        const head = rule.head.ref[0];
        const path = [...module.package.path, { ...head, type: 'string', value: head.type === 'var' ? head.value : '?' } as Term, ...rule.head.ref.slice(1)];
        let ground = path.findIndex((t, i) => i > 0 && !SCALAR.has(t.type));
        if (ground < 0) ground = path.length;
        const entry = { rule, module, path, ground };
        entries.push(entry);
        const k = key(path, ground);
        const group = groups.get(k);
        if (group) group.push(entry);
        else groups.set(k, [entry]);
      }
    }
    for (const group of groups.values()) {
      const rules = group.map((e) => e.rule);
      const name = () => pathText(group[group.length - 1].path, ctx.rewritten);
      const multi = (r: Rule) => !!r.head.key && !r.head.value;
      const kinds = new Set(rules.map(multi));
      const arities = new Set(rules.map((r) => r.head.args?.length ?? 0));
      const complete = group.filter((e) => !multi(e.rule) && e.ground === e.path.length).length;
      const partial = group.length - complete;
      const multiSet = group.some((e) => multi(e.rule) && e.ground === e.path.length);
      const multiObject = group.some((e) => multi(e.rule) && e.ground < e.path.length);
      const defaults = rules.filter((r) => r.default);
      // A ground rule's document cannot also hold rules further down its path.
      const groundRule = group.find((e) => e.ground === e.path.length);
      const groundKey = groundRule && key(groundRule.path, groundRule.ground);
      const inside = groundRule
        ? entries.filter((e) => e.ground > groundRule.ground && key(e.path, groundRule.ground) === groundKey)
        : [];
      if (inside.length > 0) {
        const list = inside.map((e) => `\n  rule ${pathText(e.path, ctx.rewritten)} at ${at(e.rule.loc)}`).join('');
        ctx.error('rego_type_error', rules[0].loc, `rule ${name()} conflicts with:${list}`);
      } else if (kinds.size > 1 || arities.size > 1 || (complete > 0 && partial > 0) || (multiSet && multiObject)) {
        ctx.error('rego_type_error', rules[0].loc, `conflicting rules ${name()} found`);
      } else if (defaults.length > 1) {
        ctx.error('rego_type_error', group[0].module.package.loc, `multiple default rules ${name()} found at ${defaults.map((r) => at(r.loc)).join(', ')}`);
      }
    }
  },
};
