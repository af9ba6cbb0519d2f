// Masking and dropping decision-log events by policy, with OPA's semantics (docs
// management-decision-logs.md "Masking Sensitive Data"; behaviour pinned against `opa run` by
// test/decisionlog/mask-opa.test.ts):
// - The mask rule yields a set of rules. A string is a JSON-pointer-like path to erase; an object
//   {op: "remove"|"upsert", path, value} removes or writes a value. Paths start with /input, /result or
//   /nd_builtin_cache. Removals are recorded in `erased`, upserts in `masked`, in rule order.
// - A path that does not exist in the event is ignored and not recorded. Upserts create missing object
//   levels but never grow arrays.
// - Path segments are compared in URL-path-escaped form (OPA escapes each segment as Go's
//   url.PathEscape does, and records the escaped path), so a key such as "a b" is addressed, and
//   recorded, as "a%20b" — and an unescaped "a b" in a path matches no key with a space.
// - Anything malformed (not a list, an unknown prefix or op, a bad %-escape) rejects the whole rule set.
import type { DecisionEvent } from './event.js';
import { cloneJson } from '../json/clone.js';
import { isJsonObject as isObject } from '../json/kinds.js';
import { DecisionLogError } from './errors.js';

type Part = 'input' | 'result' | 'nd_builtin_cache';
const parts: readonly string[] = ['input', 'result', 'nd_builtin_cache'];

export interface MaskRule {
  op: 'remove' | 'upsert';
  /** Escaped path segments; the first is the event part. */
  segments: string[];
  value?: unknown;
}

/** Parses a mask rule's result into rules; undefined (the rule was undefined) means no masking. */
export function parseMaskRules(maskResult: unknown): MaskRule[] {
  if (maskResult === undefined) return [];
  if (!Array.isArray(maskResult)) {
    throw invalid(`mask policy must return a set of rules, got ${describe(maskResult)}`);
  }
  return maskResult.map((rule): MaskRule => {
    if (typeof rule === 'string') return { op: 'remove', segments: parsePath(rule) };
    if (rule !== null && typeof rule === 'object' && !Array.isArray(rule)) {
      const { op, path, value } = rule as Record<string, unknown>;
      if (op !== 'remove' && op !== 'upsert') throw invalid(`mask op must be "remove" or "upsert", got ${describe(op)}`);
      if (typeof path !== 'string') throw invalid(`mask rule path must be a string, got ${describe(path)}`);
      return { op, segments: parsePath(path), value: value === undefined ? null : value };
    }
    throw invalid(`mask rule must be a path string or an {op, path, value} object, got ${describe(rule)}`);
  });
}

/**
 * Returns a copy of the event with the mask policy's result applied (the event passed in is not
 * changed). Throws DecisionLogError invalid_mask when the mask result is malformed.
 */
export function applyMask(event: DecisionEvent, maskResult: unknown): DecisionEvent {
  const rules = parseMaskRules(maskResult);
  if (rules.length === 0) return event;
  const masked: DecisionEvent = { ...event };
  const copied = new Set<Part>();
  for (const rule of rules) {
    const part = rule.segments[0] as Part;
    if (masked[part] === undefined) continue;
    if (!copied.has(part)) {
      masked[part] = cloneJson(masked[part]);
      copied.add(part);
    }
    const rest = rule.segments.slice(1);
    const pointer = '/' + rule.segments.join('/');
    if (rule.op === 'remove') {
      if (rest.length === 0) delete masked[part];
      else if (!removeAt(masked[part], rest)) continue;
      masked.erased = [...(masked.erased ?? []), pointer];
    } else {
      if (rest.length === 0) masked[part] = rule.value;
      else if (!upsertAt(masked[part], rest, rule.value)) continue;
      masked.masked = [...(masked.masked ?? []), pointer];
    }
  }
  return masked;
}

/** The drop rule's result: only `true` drops the event (undefined or anything else keeps it). */
export function shouldDrop(dropResult: unknown): boolean {
  return dropResult === true;
}

function parsePath(path: string): string[] {
  if (path === '') throw invalid('mask path must be non-empty');
  if (!path.startsWith('/')) throw invalid(`mask path ${JSON.stringify(path)} must start with "/"`);
  const segments = path.slice(1).split('/');
  if (!parts.includes(segments[0])) {
    throw invalid(`mask path ${JSON.stringify(path)} must start with /input, /result or /nd_builtin_cache`);
  }
  return segments.map((segment) => {
    if (/%(?![0-9A-Fa-f]{2})/.test(segment)) throw invalid(`mask path ${JSON.stringify(path)} has a malformed %-escape`);
    return pathEscape(segment);
  });
}

const unescaped = /^[A-Za-z0-9\-_.~$&+:=@]*$/;

/** Go's url.PathEscape: keeps letters, digits and -_.~$&+:=@, %-encodes every other UTF-8 byte. */
export function pathEscape(segment: string): string {
  if (unescaped.test(segment)) return segment;
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~$&+:=@]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

type Container = Record<string, unknown> | unknown[];


function arrayIndex(segment: string, length: number): number | undefined {
  if (!/^[+-]?\d+$/.test(segment)) return undefined;
  const index = Number(segment);
  return index >= 0 && index < length ? index : undefined;
}

/** Walks to the parent of the last segment; undefined when a level is missing or not a container. */
function parentOf(root: unknown, segments: string[]): Container | undefined {
  let node = root;
  for (const segment of segments.slice(0, -1)) {
    if (isObject(node) && Object.prototype.hasOwnProperty.call(node, segment)) node = node[segment];
    else if (Array.isArray(node) && arrayIndex(segment, node.length) !== undefined) node = node[arrayIndex(segment, node.length)!];
    else return undefined;
  }
  return isObject(node) || Array.isArray(node) ? node : undefined;
}

function removeAt(root: unknown, segments: string[]): boolean {
  const parent = parentOf(root, segments);
  const key = segments[segments.length - 1];
  if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, key)) {
    delete parent[key];
    return true;
  }
  if (Array.isArray(parent)) {
    const index = arrayIndex(key, parent.length);
    if (index === undefined) return false;
    parent.splice(index, 1);
    return true;
  }
  return false;
}

function upsertAt(root: unknown, segments: string[], value: unknown): boolean {
  let node = root;
  for (const segment of segments.slice(0, -1)) {
    if (isObject(node)) {
      if (!Object.prototype.hasOwnProperty.call(node, segment)) node[segment] = {};
      node = node[segment];
    } else if (Array.isArray(node)) {
      const index = arrayIndex(segment, node.length);
      if (index === undefined) return false;
      node = node[index];
    } else return false;
  }
  const key = segments[segments.length - 1];
  if (isObject(node)) {
    node[key] = value;
    return true;
  }
  if (Array.isArray(node)) {
    const index = arrayIndex(key, node.length);
    if (index === undefined) return false;
    node[index] = value;
    return true;
  }
  return false;
}

function invalid(message: string): DecisionLogError {
  return new DecisionLogError('invalid_mask', message);
}

/**
 * The kind of a malformed mask result, never its value: the message reaches /v1/status, and a buggy mask
 * policy may return the very input it was meant to hide.
 */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
