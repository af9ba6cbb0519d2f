// Where a rule's values live under data: its package path and the constant part of its head reference
// (`a.b[x]` in package p lives at p/a/b). Shared by the `with` checks and the Data API's rule-conflict check.
import type { Module, Rule } from './ast.js';

export function ruleDataPath(module: Module, rule: Rule): string[] | undefined {
  const [name, ...rest] = rule.head.ref;
  if (name?.type !== 'var') return undefined;
  const pkg = module.package.path.slice(1).map((t) => (t.type === 'string' ? t.value : ''));
  const ground = rest.findIndex((t) => t.type !== 'string');
  const keys = (ground < 0 ? rest : rest.slice(0, ground)).map((t) => (t as { value: string }).value);
  return [...pkg, name.value, ...keys];
}
