// The first builtin error of an evaluation, kept for hosts that report it (OPA's strict-builtin-errors).
// A failing builtin (native here, or the host's) sets a fault code and returns undefined; the generated code,
// on that undefined, calls builtinFailed with the call's source location, the builtin's name and operands.
// Only the first failure is kept: it is the one OPA's strict mode stops at. Codes carry no text, so the
// runtime stays free of message formatting: the host words the message from the code and the operands.

import { allocZeroed } from './heap';

/** Fault kinds (low 8 bits of a code); a type fault adds the operand position and the wanted type. */
export const FAULT_DIV_ZERO: i32 = 1;
export const FAULT_REM_ZERO: i32 = 2;
export const FAULT_NUMBER_SYNTAX: i32 = 3;
export const FAULT_JSON_SYNTAX: i32 = 4;
export const FAULT_TYPE: i32 = 5;
export const FAULT_REM_NOT_INT: i32 = 6;

/** Wanted types of a type fault, as the host spells them. */
export const WANT_NUMBER: i32 = 1;
export const WANT_STRING: i32 = 2;
export const WANT_TO_NUMBER: i32 = 3;
export const WANT_SET_OR_ARRAY: i32 = 4;
export const WANT_SET: i32 = 5;
export const WANT_NUMBER_OR_SET: i32 = 6;

let record: i32 = 0;
let pending: i32 = 0;
let failed: bool = false;
let location: i32 = 0;
let name: i32 = 0;
let code: i32 = 0;
let op0: i32 = 0;
let op1: i32 = 0;
let op2: i32 = 0;
let op3: i32 = 0;

/** Records why the builtin being called fails (the first reason it gives). */
export function fault(c: i32): i32 {
  if (pending == 0) pending = c;
  return 0;
}

/** Operand `pos` (1-based) is not of the `want` type. */
export function typeFault(pos: i32, want: i32): i32 {
  return fault(FAULT_TYPE | (pos << 8) | (want << 16));
}

/** Called by generated code when a builtin answered undefined; `loc` and `fn` are C strings. */
export function builtinFailed(loc: i32, fn: i32, a: i32, b: i32, c: i32, d: i32): void {
  if (!failed) {
    failed = true;
    location = loc;
    name = fn;
    code = pending;
    op0 = a;
    op1 = b;
    op2 = c;
    op3 = d;
  }
  pending = 0;
}

export function resetFaults(): void {
  pending = 0;
  failed = false;
}

/**
 * The first failure since the evaluation began, as 7 i32s at a static address (location, name, code, four
 * operands), or 0 when no builtin failed. Read by the host right after opa_eval, before the next call.
 */
export function verdict_builtin_error(): i32 {
  if (!failed) return 0;
  store<i32>(record, location);
  store<i32>(record, name, 4);
  store<i32>(record, code, 8);
  store<i32>(record, op0, 12);
  store<i32>(record, op1, 16);
  store<i32>(record, op2, 20);
  store<i32>(record, op3, 24);
  return record;
}

/** The host's builtins report their own failures through this (code 255: the host keeps the message). */
export function verdict_builtin_fault(c: i32): void {
  fault(c);
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function faultsStaticsInit(): void {
  record = allocZeroed(28);
}
