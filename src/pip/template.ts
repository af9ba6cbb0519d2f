// `{param}` placeholders in adapter settings (URLs, bodies, LDAP filters, file keys), filled from lookup params.
// Each adapter decides how a value is escaped for its target; this module only parses and substitutes.

import { PipConfigError, PipLookupError } from './errors.js';
import type { JsonValue, LookupParams } from './adapter.js';
import { NumberText } from '../json/number-text.js';

type Part = { text: string } | { param: string; modifier?: string };

export interface Template {
  readonly source: string;
  readonly params: readonly string[];
  /** Fill with `encode(value, modifier)` for each placeholder; throws if a param is missing. */
  render(params: LookupParams, encode: (value: JsonValue, modifier: string | undefined) => string): string;
  /** The param a template consists of entirely (`"{user}"`), so JSON bodies can keep the value's type. */
  readonly whole?: string;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}/g;

export function parseTemplate(source: string, where: string, modifiers: readonly string[] = []): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ text: source.slice(last, m.index) });
    const modifier = m[2];
    if (modifier !== undefined && !modifiers.includes(modifier)) {
      throw new PipConfigError(`${where}: unknown placeholder modifier ":${modifier}" in "${source}"`);
    }
    parts.push({ param: m[1], modifier });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  const params = [...new Set(parts.flatMap((p) => ('param' in p ? [p.param] : [])))];
  const only = parts.length === 1 && 'param' in parts[0] && parts[0].modifier === undefined ? parts[0].param : undefined;
  return {
    source,
    params,
    whole: only,
    render(values, encode) {
      let out = '';
      for (const part of parts) {
        if ('text' in part) out += part.text;
        else out += encode(requireParam(values, part.param), part.modifier);
      }
      return out;
    },
  };
}

export function requireParam(values: LookupParams, name: string): JsonValue {
  const value = values[name];
  if (value === undefined) throw new PipLookupError('failed', `lookup parameter "${name}" is missing`);
  return value;
}

/** Scalars become their text; objects and arrays are refused, since no target can take them safely as text. */
export function scalarText(value: JsonValue, param = 'value'): string {
  if (value === null) return 'null';
  // A number the JSON reader kept as its text is a number: its text as written.
  if (value instanceof NumberText) return value.text;
  if (typeof value === 'object') {
    throw new PipLookupError('failed', `lookup parameter "${param}" must be a string, number or boolean`);
  }
  return String(value);
}
