// What kind of JSON value a value read by src/json/reader.ts is.
import { NumberText } from './number-text.js';

/** A JSON object (a number kept as its text is a number, not an object). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberText);
}

/** Whether any number kept as text inside `value` passes `test` (explicit stack: documents may be deep). */
export function someNumberText(value: unknown, test: (text: string) => boolean): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof NumberText) {
      if (test(v.text)) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (isJsonObject(v)) stack.push(...Object.values(v));
  }
  return false;
}

/** Go's encoding/json name for a value's kind, as its "cannot unmarshal <kind> into ..." errors print it. */
export function goJsonKind(value: unknown): 'null' | 'bool' | 'number' | 'string' | 'array' | 'object' {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || value instanceof NumberText) return 'number';
  if (typeof value === 'string') return 'string';
  return Array.isArray(value) ? 'array' : 'object';
}
