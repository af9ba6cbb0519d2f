// The exports of OPA's wasm ABI 1.2 (OPA docs/docs/wasm.md). `eval`, `builtins` and `entrypoints`
// are generated per policy; the code generator replaces the `verdict.eval_plans` import with the
// compiled plans.
import { alloc, heapEndSet, heapGet, heapSet, opa_abort } from './heap';
import { mkSet } from './value';
import { parseJSON, parseDetached, dump } from './json';
import { dataObject } from './data';
import { resetFaults } from './faults';
import { resetConflicts } from './conflicts';

export const opa_wasm_abi_version: i32 = 1;
export const opa_wasm_abi_minor_version: i32 = 2;

@external("verdict", "eval_plans")
declare function evalPlans(ctx: i32): void;

export function opa_malloc(size: i32): i32 { return alloc(size); }
export function opa_free(_ptr: i32): void {}
export function opa_heap_ptr_get(): i32 { return heapGet(); }
export function opa_heap_ptr_set(ptr: i32): void { heapSet(ptr); }
/** Verdict's own: the bound of the heap on a shared memory (src/engine/wasm-host.ts loads data into areas). */
export function verdict_heap_end_set(end: i32): void { heapEndSet(end); }

export function opa_json_parse(p: i32, n: i32): i32 { return parseJSON(p, n, false); }
export function opa_value_parse(p: i32, n: i32): i32 { return parseJSON(p, n, true); }
/** Verdict's own: data loading (src/engine/wasm-host.ts), see parseDetached. */
export function verdict_json_parse_detached(p: i32, n: i32, limit: i32): i32 { return parseDetached(p, n, limit); }
/** Verdict's own: an object of loaded data from (key, value) pairs (src/engine/wasm-host.ts), see dataObject. */
export function verdict_data_object(keys: i32, p: i32, n: i32): i32 { return dataObject(keys, p, n); }
export function opa_json_dump(v: i32): i32 { return dump(v, false); }
export function opa_value_dump(v: i32): i32 { return dump(v, true); }

/** Context: {input@0, data@4, result@8, entrypoint@12}. */
export function opa_eval_ctx_new(): i32 {
  const c = alloc(16);
  store<i32>(c, 0);
  store<i32>(c, 0, 4);
  store<i32>(c, 0, 8);
  store<i32>(c, 0, 12);
  return c;
}
export function opa_eval_ctx_set_input(c: i32, v: i32): void { store<i32>(c, v); }
export function opa_eval_ctx_set_data(c: i32, v: i32): void { store<i32>(c, v, 4); }
export function opa_eval_ctx_set_entrypoint(c: i32, e: i32): void { store<i32>(c, e, 12); }
export function opa_eval_ctx_get_result(c: i32): i32 { return load<i32>(c, 8); }

export function eval(c: i32): i32 {
  store<i32>(c, mkSet(), 8);
  resetFaults();
  resetConflicts();
  evalPlans(c);
  return 0;
}

const BAD_INPUT: i32 = <i32>memory.data<u8>([
  0x69,0x6e,0x74,0x65,0x72,0x6e,0x61,0x6c,0x3a,0x20,0x69,0x6e,0x76,0x61,0x6c,0x69,0x64,0x20,
  0x69,0x6e,0x70,0x75,0x74,0x20,0x4a,0x53,0x4f,0x4e,0]); // "internal: invalid input JSON"
const BAD_RESERVED: i32 = <i32>memory.data<u8>([
  0x69,0x6e,0x74,0x65,0x72,0x6e,0x61,0x6c,0x3a,0x20,0x72,0x65,0x73,0x65,0x72,0x76,0x65,0x64,0]); // "internal: reserved"


/**
 * The single-call fast path (ABI 1.2): input text sits just below heapPtr, written by the host. As in OPA's own
 * runtime the text is Rego value text (opa_value_parse: JSON, or with sets), so a host may give input holding sets.
 */
export function opa_eval(reserved: i32, entrypoint: i32, data: i32, inputPtr: i32, inputLen: i32, heapPtr: i32, format: i32): i32 {
  if (reserved != 0) { opa_abort(BAD_RESERVED); unreachable(); }
  heapSet(heapPtr);
  let input = 0;
  if (inputLen > 0) {
    input = parseJSON(inputPtr, inputLen, true);
    if (input == 0) { opa_abort(BAD_INPUT); unreachable(); }
  }
  const c = opa_eval_ctx_new();
  store<i32>(c, input);
  store<i32>(c, data, 4);
  store<i32>(c, entrypoint, 12);
  eval(c);
  return dump(load<i32>(c, 8), format == 1);
}

// Incremental data edits (ABI 1.x, used by hosts that patch data in place; the npm SDK does not).
// Error codes: 0 ok, 1 internal, 2 invalid type, 3 invalid path. Loaded data's fixed objects (value.ts F_INLINE)
// are read-only: an edit of one is refused as of an invalid type.
import { T_OBJECT, T_ARRAY, tagOf, isInline, arrLen, arrGet, mkObject } from './value';
import { objGet, objInsert, colRemove } from './collection';

/** An edit has a base and a path that is a non-empty array; anything else is refused as an invalid path (3). */
function isEditPath(base: i32, path: i32): bool {
  return base != 0 && path != 0 && tagOf(path) == T_ARRAY && arrLen(path) > 0;
}

/** The object an edit's last segment goes in or comes out of: not loaded data's read-only objects (2 otherwise). */
function isEditableObject(node: i32): bool {
  return tagOf(node) == T_OBJECT && !isInline(node);
}

export function opa_value_add_path(base: i32, path: i32, v: i32): i32 {
  if (!isEditPath(base, path)) return 3;
  const n = arrLen(path);
  let node = base;
  for (let i = 0; i < n - 1; i++) {
    if (tagOf(node) != T_OBJECT) return 2;
    let next = objGet(node, arrGet(path, i));
    if (next == 0) {
      if (isInline(node)) return 2;
      next = mkObject();
      objInsert(node, arrGet(path, i), next);
    }
    node = next;
  }
  if (!isEditableObject(node)) return 2;
  objInsert(node, arrGet(path, n - 1), v);
  return 0;
}

export function opa_value_remove_path(base: i32, path: i32): i32 {
  if (!isEditPath(base, path)) return 3;
  const n = arrLen(path);
  let node = base;
  for (let i = 0; i < n - 1; i++) {
    if (tagOf(node) != T_OBJECT) return 2;
    node = objGet(node, arrGet(path, i));
    if (node == 0) return 3;
  }
  if (!isEditableObject(node)) return 2;
  return colRemove(node, arrGet(path, n - 1)) ? 0 : 3;
}

/** Values live until the next heap reset; there is nothing to free one by one. */
export function opa_value_free(_v: i32): void {}
