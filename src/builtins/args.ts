// Operand checks and result helpers shared by the host builtins. Builtins throw BuiltinError for bad
// operands or failed operations; the registry turns that into undefined, OPA's non-strict behaviour.

import { NumberText } from './rego-value.js';
import { asInteger, parseDecimal } from './decimal.js';

/** An error raised by a builtin, with OPA's "name: message" wording. */
export class BuiltinError extends Error {
  constructor(builtin: string, message: string) {
    super(`${builtin}: ${message}`);
    this.name = 'BuiltinError';
  }
}

export type JsonObject = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function operandError(builtin: string, pos: number, want: string, got: unknown): BuiltinError {
  return new BuiltinError(builtin, `operand ${pos} must be ${want} but got ${typeName(got)}`);
}

export function str(builtin: string, pos: number, v: unknown): string {
  if (typeof v !== 'string') throw operandError(builtin, pos, 'string', v);
  return v;
}

export function num(builtin: string, pos: number, v: unknown): number {
  if (typeof v !== 'number') throw operandError(builtin, pos, 'number', v);
  return v;
}

export function int(builtin: string, pos: number, v: unknown): number {
  const n = num(builtin, pos, v);
  if (!Number.isInteger(n)) throw new BuiltinError(builtin, `operand ${pos} must be integer number but got floating-point number`);
  return n;
}

/**
 * An integer operand of any size, for builtins marked keepsNumberText: 1e20 and 3.0 are integers, 1.5 is not.
 */
export function bigInt(builtin: string, pos: number, v: unknown): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  const d = v instanceof NumberText || typeof v === 'number' ? parseDecimal(String(v)) : undefined;
  if (!d) throw operandError(builtin, pos, 'number', v);
  const n = asInteger(d);
  if (n === undefined) throw new BuiltinError(builtin, `operand ${pos} must be integer number but got floating-point number`);
  return n;
}

export function bool(builtin: string, pos: number, v: unknown): boolean {
  if (typeof v !== 'boolean') throw operandError(builtin, pos, 'boolean', v);
  return v;
}

/** Arrays and sets both arrive as JS arrays (sets are serialised as arrays by the SDK). */
export function arr(builtin: string, pos: number, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw operandError(builtin, pos, 'array', v);
  return v;
}

/** The elements of an array or set, or the values of an object. */
export function elements(builtin: string, pos: number, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object') return Object.values(v);
  throw operandError(builtin, pos, 'one of {array, object, set}', v);
}

export function obj(builtin: string, pos: number, v: unknown): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw operandError(builtin, pos, 'object', v);
  return v as JsonObject;
}

/** A string, or an array/set of strings, as a list of strings. */
export function strings(builtin: string, pos: number, v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw operandError(builtin, pos, 'one of {string, array, set}', v);
  return v.map((x) => {
    if (typeof x !== 'string') throw operandError(builtin, pos, 'array of strings', x);
    return x;
  });
}

/**
 * An integer result that keeps every digit on its way back into the module (a double would turn 2^60 into
 * 1152921504606847000): beyond 2^53 it is sent as its NumberText, which the host writes as it is.
 */
export function exactInteger(n: bigint): unknown {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) return new NumberText(n.toString());
  return Number(n);
}

/** A decimal number given as text (e.g. "12.50"), sent back exactly (see exactInteger). */
export function exactDecimal(text: string): unknown {
  return new NumberText(text);
}

/** A host builtin: JSON values in, a JSON value (or undefined) out. */
export type HostBuiltin = (...args: any[]) => unknown;
