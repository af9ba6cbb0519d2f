// Compares query results with a case's expectations the way OPA's own wasm end-to-end test does:
// rows form a set (order and duplicates do not matter), numbers compare by value, and with
// sort_bindings the array values of each row are sorted first.

const TYPE_RANK = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5 } as const;

function kind(v: unknown): keyof typeof TYPE_RANK {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'boolean' || t === 'number' || t === 'string') return t;
  return 'object';
}

/** OPA's total order restricted to JSON values: null < booleans < numbers < strings < arrays < objects. */
export function compareJson(a: unknown, b: unknown): number {
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) return TYPE_RANK[ka] - TYPE_RANK[kb];
  switch (ka) {
    case 'null':
      return 0;
    case 'boolean':
    case 'number':
      return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
    case 'string':
      return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    case 'array': {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareJson(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 'object': {
      // Objects order by their sorted keys, then by the values under those keys.
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const xk = Object.keys(x).sort();
      const yk = Object.keys(y).sort();
      for (let i = 0; i < Math.min(xk.length, yk.length); i++) {
        const kc = compareJson(xk[i], yk[i]);
        if (kc !== 0) return kc;
        const vc = compareJson(x[xk[i]!], y[yk[i]!]);
        if (vc !== 0) return vc;
      }
      return xk.length - yk.length;
    }
  }
}

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
