// Compares query results with a case's expectations the way OPA's own wasm end-to-end test does:
// rows form a set (order and duplicates do not matter), numbers compare by value, and with
// sort_bindings the array values of each row are sorted first.

import { compareJson } from '../../src/builtins/json-value.js';

export { compareJson };

function normaliseRow(row: Record<string, unknown>, sortBindings: boolean): Record<string, unknown> {
  if (!sortBindings) return row;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = Array.isArray(v) ? [...v].sort(compareJson) : v;
  return out;
}

function rowSet(rows: Array<Record<string, unknown>>, sortBindings: boolean): Array<Record<string, unknown>> {
  const sorted = rows.map((r) => normaliseRow(r, sortBindings)).sort(compareJson);
  return sorted.filter((r, i) => i === 0 || compareJson(sorted[i - 1], r) !== 0);
}

/** True when the rows match the expected rows as sets. */
export function sameResultSet(
  want: Array<Record<string, unknown>>,
  got: Array<Record<string, unknown>>,
  sortBindings: boolean,
): boolean {
  return compareJson(rowSet(want, sortBindings), rowSet(got, sortBindings)) === 0;
}
