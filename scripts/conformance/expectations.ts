// The conformance cases a run is known not to pass, each with its reason, read from a YAML file keyed by run
// ("<suite>/<planner>/<backend>"). A run meets its expectations when exactly the listed cases fail and exactly
// the listed cases are skipped: any other failure or skip is a regression, and a listed case that now passes
// must come off the list, so that the list only ever shrinks.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { LocatedCase } from './cases.js';
import type { Outcome } from './run-case.js';

/** A listed case: "<yaml file>#<index>" as the runner names it, OPA's note for the reader, and why. */
export interface ExpectedCase {
  case: string;
  note?: string;
  reason: string;
}

export interface RunExpectations {
  failures: ExpectedCase[];
  skipped: ExpectedCase[];
}

export function caseId(c: LocatedCase): string {
  return `${c.file}#${c.index}`;
}

function listed(value: unknown, where: string): ExpectedCase[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${where} must be a list`);
  return value.map((e: unknown, i) => {
    const entry = e as Partial<ExpectedCase> | null;
    if (typeof entry?.case !== 'string' || typeof entry.reason !== 'string' || entry.reason.trim() === '') {
      throw new Error(`${where}[${i}] needs a case ("file#index") and a non-empty reason`);
    }
    return { case: entry.case, note: entry.note, reason: entry.reason };
  });
}

/** The expectations for one run; a run the file does not list expects every case to pass. */
export function loadExpectations(file: string, run: string): RunExpectations {
  const doc = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, { failures?: unknown; skipped?: unknown } | undefined>;
  const entry = doc[run];
  return { failures: listed(entry?.failures, `${file}: ${run}.failures`), skipped: listed(entry?.skipped, `${file}: ${run}.skipped`) };
}

/** What differs from the expectations, one line each; empty when the run meets them. */
export function unmetExpectations(cases: LocatedCase[], outcomes: Outcome[], expected: RunExpectations): string[] {
  const problems: string[] = [];
  const failures = new Map(expected.failures.map((e) => [e.case, e]));
  const skipped = new Map(expected.skipped.map((e) => [e.case, e]));
  const seen = new Set<string>();
  cases.forEach((c, i) => {
    const id = caseId(c);
    seen.add(id);
    const o = outcomes[i]!;
    const name = `${id} "${c.case.note}"`;
    if (o.status === 'fail' && !failures.has(id)) problems.push(`unexpected failure: ${name}: ${o.cause}`);
    if (o.status !== 'fail' && failures.has(id)) problems.push(`listed as failing but ${o.status === 'pass' ? 'passes' : 'was skipped'}: ${name} (take it off the list)`);
    if (o.status === 'skip' && !skipped.has(id)) problems.push(`unexpected skip: ${name}: ${o.reason}`);
    if (o.status !== 'skip' && skipped.has(id)) problems.push(`listed as skipped but ran: ${name} (take it off the list)`);
  });
  for (const id of [...failures.keys(), ...skipped.keys()]) {
    if (!seen.has(id)) problems.push(`listed case not in this run: ${id} (take it off the list)`);
  }
  return problems;
}
