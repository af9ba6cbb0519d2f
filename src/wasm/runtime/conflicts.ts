// The values a complete rule or function produced in conflict, kept so the host can word the error as OPA does
// (the document's first value and, once per definition, each value that differs from it, each with where the
// definition is written). Generated code notes a conflict here and goes on evaluating the remaining
// definitions; the function aborts (CONFLICT marker) when it would return, or at once past MAX_ENTRIES.
// Entries hold addresses of values and of the plan's site texts (C strings); the host reads them in its
// opa_abort, before anything else runs in the instance.

import { allocZeroed } from './heap';
import { equal } from './compare';

/** OPA lists at most this many definitions (the first value included), then "...". */
const MAX_ENTRIES: i32 = 10;

// Layout of the record: head, count, more, then MAX_ENTRIES pairs of (site, value).
let record: i32 = 0;

function entrySite(i: i32): i32 { return load<i32>(record + 12 + i * 8); }

function add(site: i32, value: i32): i32 {
  const n = load<i32>(record, 4);
  // One entry per definition after the first value: the first value it produced that differs.
  for (let i = 1; i < n; i++) if (entrySite(i) == site) return 0;
  if (n == MAX_ENTRIES) {
    store<i32>(record, 1, 8);
    return 1;
  }
  store<i32>(record + 12 + n * 8, site);
  store<i32>(record + 12 + n * 8, value, 4);
  store<i32>(record, n + 1, 4);
  return 0;
}

/**
 * A definition's value `src` (written at `site`) differs from the value `t` (from `tSite`) already held.
 * `doc`, when not 0, is the document's value (from `docSite`) that `t` is later merged into: OPA compares every
 * value with the document's, so `t` and `src` are each listed when they differ from it. `head` names the rule or
 * function. Answers 1 when the list is full and the evaluation must stop now.
 */
export function conflictNote(head: i32, docSite: i32, doc: i32, tSite: i32, t: i32, site: i32, src: i32): i32 {
  const firstSite = doc != 0 ? docSite : tSite;
  const first = doc != 0 ? doc : t;
  if (load<i32>(record) != head || load<i32>(record, 4) == 0) {
    store<i32>(record, head);
    store<i32>(record, 1, 4);
    store<i32>(record, 0, 8);
    store<i32>(record + 12, firstSite);
    store<i32>(record + 12, first, 4);
  }
  if (doc != 0) {
    if (!equal(t, doc) && add(tSite, t) != 0) return 1;
    if (!equal(src, doc)) return add(site, src);
    return 0;
  }
  return add(site, src);
}

export function resetConflicts(): void {
  store<i32>(record, 0);
  store<i32>(record, 0, 4);
  store<i32>(record, 0, 8);
}

/** The record, read by the host when the evaluation aborted on a conflict. */
export function verdict_conflict(): i32 {
  return record;
}

export function conflictsStaticsInit(): void {
  record = allocZeroed(12 + MAX_ENTRIES * 8);
}
