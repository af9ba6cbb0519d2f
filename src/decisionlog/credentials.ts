// Credentials never reach the decision log unless the operator asks (decision_logs.store.mask_credentials:
// false). In every `headers` object of an event's input, result and nd_builtin_cache — Envoy's
// attributes.request.http.headers, the callouts' same shape, an application's input.request.headers, headers a
// policy sends upstream, http.send requests in the builtin cache — the credential headers are erased, names
// compared without case. Each removal is recorded in `erased` as OPA's mask policy records one, so tools read it
// as they read OPA's. The decision itself was made on the full input; only what is stored changes.
import type { DecisionEvent } from './event.js';
import { pathEscape } from './mask.js';

/** Header names whose values are credentials (lower case). */
export const credentialHeaders: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

const parts = ['input', 'result', 'nd_builtin_cache'] as const;

type Json = Record<string, unknown> | unknown[];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A value reached by the walk, linked to its parent so a path is built only for what is found. */
interface Visit {
  node: unknown;
  key: string;
  parent?: Visit;
  /** The value of a key named "headers" (any case). */
  headers: boolean;
}

function pathOf(visit: Visit): string[] {
  const path: string[] = [];
  for (let v: Visit | undefined = visit; v; v = v.parent) path.push(v.key);
  return path.reverse();
}

/** Raw key paths (from the event part down) of every credential header in `root`, in document order. */
function credentialPaths(root: unknown, part: string): string[][] {
  const found: string[][] = [];
  // Depth-first with an explicit stack (inputs may nest deeper than the call stack allows); children are pushed
  // last first so they are visited in document order. A cyclic value (which the store then refuses to encode)
  // is walked once.
  const stack: Visit[] = [{ node: root, key: part, headers: false }];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { node } = visit;
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) {
        if (node[i] !== null && typeof node[i] === 'object') stack.push({ node: node[i], key: String(i), parent: visit, headers: false });
      }
      continue;
    }
    if (!isObject(node)) continue;
    const keys = Object.keys(node);
    if (visit.headers) for (const name of keys) if (credentialHeaders.has(name.toLowerCase())) found.push([...pathOf(visit), name]);
    for (let i = keys.length - 1; i >= 0; i--) {
      const value = node[keys[i]];
      if (value !== null && typeof value === 'object') stack.push({ node: value, key: keys[i], parent: visit, headers: keys[i].toLowerCase() === 'headers' });
    }
  }
  return found;
}

/**
 * False when JSON text cannot hold a credential header: no credential header name in it, and no \u escape
 * that could spell one. Far cheaper than walking the parsed value, and most inputs pass it.
 */
export function mayHoldCredentials(json: string): boolean {
  // Two plain searches run about twice as fast as one alternation.
  return authorizationWord.test(json) || cookieWord.test(json) || json.includes('\\u');
}

const authorizationWord = /authorization/i;
const cookieWord = /cookie/i;

/**
 * A copy of the event without credential header values, each removal listed in `erased`; the event itself when
 * it holds none. A header the mask policy already upserted (listed in `masked`) is left as the policy wrote it.
 * `inputClean`: the caller found with mayHoldCredentials that the input's text holds none, so it is not walked.
 */
export function eraseCredentials(event: DecisionEvent, options: { inputClean?: boolean } = {}): DecisionEvent {
  let copy: DecisionEvent | undefined;
  const already = new Set(event.masked ?? []);
  for (const part of parts) {
    if (event[part] === null || typeof event[part] !== 'object') continue;
    if (part === 'input' && options.inputClean) continue;
    const paths = credentialPaths(event[part], part).filter((p) => !already.has(pointer(p)));
    if (paths.length === 0) continue;
    copy ??= { ...event, erased: [...(event.erased ?? [])] };
    const cloned = copyAlong(event[part] as Json, paths);
    for (const path of paths) copy.erased!.push(pointer(path));
    copy[part] = cloned;
  }
  return copy ?? event;
}

/**
 * `root` without the last key of each path (paths start with the part's name), copying only the objects along
 * the paths: the rest is shared, so exact numbers stay as the reader made them and cycles are never walked.
 */
function copyAlong(root: Json, paths: string[][]): Json {
  const copies = new Map<object, Record<string, unknown>>();
  const copyOf = (node: object) => {
    let copy = copies.get(node);
    if (!copy) copies.set(node, (copy = (Array.isArray(node) ? [...node] : { ...node }) as Record<string, unknown>));
    return copy;
  };
  const top = copyOf(root as object);
  for (const path of paths) {
    let parent = top;
    for (const key of path.slice(1, -1)) parent = parent[key] = copyOf(parent[key] as object);
    delete parent[path[path.length - 1]];
  }
  return top as Json;
}

function pointer(path: string[]): string {
  return '/' + path.map(pathEscape).join('/');
}
