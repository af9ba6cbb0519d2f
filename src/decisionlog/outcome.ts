// Allow/deny classification of a decision, stored in an indexed column so audits can filter by it.
import type { DecisionEvent } from './event.js';
import { parseFieldPath, valueAt } from './fieldpath.js';

export type Outcome = 'allow' | 'deny' | 'undefined' | 'error' | 'other';
export const outcomes: readonly Outcome[] = ['allow', 'deny', 'undefined', 'error', 'other'];

export interface OutcomeRuleConfig {
  /**
   * Where to find the allow boolean, tried in order: "result" is the result itself, "result.a.b" a field
   * in it. The first boolean found decides; if none is, the outcome is "other".
   */
  paths: string[];
}

export const defaultOutcomeRule: OutcomeRuleConfig = { paths: ['result', 'result.allow', 'result.allowed'] };

export type OutcomeClassifier = (event: DecisionEvent) => Outcome;

export function outcomeClassifier(rule: OutcomeRuleConfig = defaultOutcomeRule): OutcomeClassifier {
  const paths = rule.paths.map((p) => parseFieldPath(p, 'result'));
  return (event) => {
    if (event.error !== undefined) return 'error';
    if (event.result === undefined) return 'undefined';
    for (const path of paths) {
      const value = valueAt(event.result, path);
      if (typeof value === 'boolean') return value ? 'allow' : 'deny';
    }
    return 'other';
  };
}
