// OPA refuses a Data API write that leaves base data where a rule's values live (at the rule's path, under
// it, or a non-object above it): "conflicting rule for data path p/x found", one error per rule path.
import type { RegoModule } from '../bundle/bundle.js';
import { isJsonObject as isObject } from '../json/kinds.js';
import { parseModule } from '../compiler/parse-module.js';
import { ruleDataPath } from '../compiler/rule-data-path.js';
import { formatRegoError } from '../compiler/errors.js';
import { goErrorList } from '../cli/go-format.js';

/** A rule path and where its first rule stands. */
export interface RuleSite {
  path: string[];
  file: string;
  row: number;
  col: number;
}

/** The rule paths of modules that already compiled together (so each parses). */
export function ruleSites(modules: RegoModule[], regoVersion: 0 | 1): RuleSite[] {
  const sites = new Map<string, RuleSite>();
  for (const source of modules) {
    const { module } = parseModule(source.path, source.source, { regoVersion: regoVersion === 0 ? 'v0' : 'v1' });
    if (!module) continue;
    for (const rule of module.rules) {
      const path = ruleDataPath(module, rule);
      const key = path?.join('/');
      if (path && key !== undefined && !sites.has(key)) sites.set(key, { path, file: rule.loc.file, row: rule.loc.row, col: rule.loc.col });
    }
  }
  return [...sites.values()];
}

/**
 * OPA's message for the rule paths a write at `writtenAt` conflicts with, reading the document as it would be
 * after the write through `after`; undefined when there is none. Only rule paths above or below the written
 * path are looked at: data elsewhere is unchanged by the write.
 */
export function ruleConflictMessage(sites: readonly RuleSite[], writtenAt: string[], after: (path: string[]) => unknown): string | undefined {
  const found = sites.filter((site) => overlaps(site.path, writtenAt) && holdsData(site.path, after));
  if (found.length === 0) return undefined;
  found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.row - b.row || a.col - b.col));
  return goErrorList(found.map((s) => formatRegoError({ code: 'rego_compile_error', message: `conflicting rule for data path ${s.path.join('/')} found`, location: s })));
}

function overlaps(a: string[], b: string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Data at the rule's path, or a value other than an object on the way there. */
function holdsData(path: string[], after: (path: string[]) => unknown): boolean {
  for (let n = 1; n <= path.length; n++) {
    const value = after(path.slice(0, n));
    if (value === undefined) return false;
    if (n === path.length || !isObject(value)) return true;
  }
  return false;
}
