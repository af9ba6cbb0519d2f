// Runtime entry: the ABI exports plus everything the generated code calls. Functions exported
// here are looked up by name by src/wasm/compile.ts; `b_<name>` exports are native builtins.
export * from './abi';
export {
  valueGet, valueLength, scanLength, scanKey, scanValue, valueType, numberSetInt, shallowCopy,
  objectMerge, memoInit, memoPush, memoPop, memoGet, memoSet, mappingLookup, upsert,
} from './ops';
export { mkNull, mkTrue, mkFalse, mkInt, mkString, mkArray, arrAppend, mkObject, mkSet } from './value';
export { objInsert, setAdd } from './collection';
export { compare } from './compare';
export { heapBase } from './heap';
export { regionInit } from './region';
export { builtinFailed, verdict_builtin_error, verdict_builtin_fault } from './faults';
export { conflictNote, verdict_conflict } from './conflicts';
import { equal } from './compare';
import { parseNumber } from './number';

export function valueEqual(a: i32, b: i32): i32 { return equal(a, b) ? 1 : 0; }
export function mkNumberRef(p: i32, n: i32): i32 { return parseNumber(p, n, true, false); }
export * from './builtins/compare';
export * from './builtins/arith';
export * from './builtins/aggregates';
export * from './builtins/types';
export * from './builtins/sets';
export * from './builtins/collections';
export * from './builtins/strings';
export * from './builtins/glob';
export * from './builtins/bits';
export * from './builtins/paths';
export * from './builtins/net';
export * from './builtins/sprintf';
