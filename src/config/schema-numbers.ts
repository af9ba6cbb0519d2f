// A configuration that discovery produced went through the JSON reader, which keeps a number a double cannot
// print back as its text (src/json/number-text.ts). OPA decodes each number into the Go type of its field:
// an int64 field takes 9007199254740993 but refuses 5.0, 1e3 and 2^63; a float64 field takes any finite
// number. Here the schema's `type` errors say which kind each place needs, and a number kept as text that
// fits that kind becomes a JS number (the nearest double: these are amounts of seconds, bytes or events,
// where the difference cannot show). A number that does not fit stays text, so the schema names it.
import type { ErrorObject } from 'ajv';
import { NumberText } from '../json/number-text.js';

const int64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function fits(text: string, types: string[]): boolean {
  if (types.includes('integer') && /^-?\d+$/.test(text)) {
    const n = BigInt(text);
    if (n >= int64.min && n <= int64.max) return true;
  }
  return types.includes('number') && Number.isFinite(Number(text));
}

/** Turns the numbers kept as text that the `type` errors point at into JS numbers where they fit; true if any did. */
export function numbersForTypes(value: unknown, errors: ErrorObject[]): boolean {
  let changed = false;
  for (const error of errors) {
    if (error.keyword !== 'type' || error.instancePath === '') continue;
    const path = error.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const key = path.pop()!;
    let parent = value as Record<string, unknown> | undefined;
    for (const segment of path) parent = parent?.[segment] as Record<string, unknown> | undefined;
    const found = parent?.[key];
    if (!(found instanceof NumberText) || !fits(found.text, String(error.params.type).split(','))) continue;
    parent![key] = Number(found.text);
    changed = true;
  }
  return changed;
}
