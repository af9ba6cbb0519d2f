// What kind of JSON value a value read by src/json/reader.ts is.
import { NumberText } from './number-text.js';

/** A JSON object (a number kept as its text is a number, not an object). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberText);
}
