// Merge keys (`<<: *base`) and repeated keys as OPA's YAML reader treats them, which the YAML library (read with
// merging off) leaves as plain `<<` pairs:
//   - in each mapping, repeated `<<` keys are folded in order into one sequence at the first one's place (a
//     sequence value is spliced in); where that would fold fewer than two mappings, the last `<<` alone counts;
//   - in each mapping, of a key given twice (compared by the name JSON gives it) the last value wins, before merging;
//   - a mapping's own keys win over merged ones, and of the merged mappings the first to bring a key wins, depth
//     first through their own merge keys;
//   - a merged value must be a mapping, an alias of one, or a sequence of those; anything else is refused;
//   - a mapping whose own keys are all strings takes merged keys as their text (010 stays "010"), leaves out null
//     ones and refuses collections; any other mapping takes them as it takes its own.
// `<<` is a merge key only plain and untagged or tagged !!merge; quoted or tagged !!str it is an ordinary key.
import type { Document, Pair, Scalar, YAMLMap, YAMLParseError } from 'yaml';
import { lazyRequire } from '../lazy-require.js';
import { lineAt } from './yaml-flow-question.js';
import { goSyntax } from '../builtins/sprintf.js';
import { inlineAliases } from './yaml-anchors.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

const MERGE_TAG = 'tag:yaml.org,2002:merge';

/** A mapping read as Go's decoder sees it: its own pairs, repeats dropped, and what it merges, in order. */
interface Normalized {
  pairs: Pair[];
  merged: unknown[];
  /** Every key left, merge keys too, in order. */
  keys: unknown[];
}

/** The document, its text, the name JSON gives a scalar key (undefined for a null one), and Go's floats. */
export interface MergeContext {
  doc: Document;
  text: string;
  jsonName: (key: Scalar) => string | undefined;
  isFloat: (key: Scalar) => boolean;
}

/**
 * A key as Go tells keys apart when merging: by type and value. Keys of two types with one JSON name (1 and
 * "1") are both kept, and the one put in last names the JSON member.
 */
function goIdentity(key: Scalar, ctx: MergeContext): string {
  const v = key.value;
  if (v === null) return 'null';
  const type = typeof v === 'string' ? 'str' : typeof v === 'boolean' ? 'bool' : ctx.isFloat(key) ? 'float' : 'int';
  return `${type}:${ctx.jsonName(key)}`;
}

function isMergeKey(key: unknown): boolean {
  const lib = yaml();
  return lib.isScalar(key) && key.type === 'PLAIN' && key.source === '<<' && (key.tag === undefined || key.tag === MERGE_TAG);
}

/** The pairs of `map` as Go's decoder gets them, merge keys folded and repeated keys collapsed. */
function normalize(map: YAMLMap, ctx: MergeContext): Normalized {
  const lib = yaml();
  const merges = map.items.filter((p) => isMergeKey(p.key));
  const spliced = (value: unknown) => (lib.isSeq(value) ? value.items : [value]);
  const folded = merges.flatMap((p) => spliced(p.value));
  const merged = folded.length >= 2 ? folded : merges.length > 0 ? spliced(merges[merges.length - 1]!.value) : [];
  const pairs: Pair[] = [];
  const keys: unknown[] = [];
  const at = new Map<string, number>();
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) {
      // Folded, the merge keys leave the first in place of them all.
      if (folded.length < 2 || pair === merges[0]) keys.push(pair.key);
      continue;
    }
    const name = lib.isScalar(pair.key) ? ctx.jsonName(pair.key) : undefined;
    const earlier = name === undefined ? undefined : at.get(name);
    // The first place, the last value.
    if (earlier !== undefined) pairs[earlier] = new lib.Pair(pairs[earlier]!.key, pair.value);
    else {
      if (name !== undefined) at.set(name, pairs.length);
      pairs.push(pair);
      keys.push(pair.key);
    }
  }
  return { pairs, merged, keys };
}

/** Go's report of what it could not decode, a line each. */
function unmarshalErrors(lines: string[]): YAMLParseError {
  return new (yaml().YAMLParseError)([0, 0], 'BAD_COLLECTION_TYPE', `unmarshal errors:\n  ${lines.join('\n  ')}`);
}

/** Whether a mapping's own keys are all strings (merge keys aside), so Go decodes it into a string-keyed map. */
function stringKeyed(map: YAMLMap, doc: Document): boolean {
  const lib = yaml();
  return map.items.every((p) => {
    if (isMergeKey(p.key)) return true;
    const key = lib.isAlias(p.key) ? p.key.resolve(doc) : p.key;
    return lib.isScalar(key) && typeof key.value === 'string';
  });
}

class MergeError extends Error {}

/** The text of a scalar, as Go's node holds it: a string's value, the source of anything else. */
function goText(key: Scalar): string {
  return typeof key.value === 'string' ? key.value : (key.source ?? String(key.value ?? ''));
}

/**
 * Go refuses a mapping where two keys left (after repeats are dropped) are the same kind of node with the same
 * text: null keys written alike, merge keys not folded, two collections, aliases of one anchor. A message for
 * each such pair, the later key's line first.
 */
function repeatedKeys(keys: unknown[], text: string): string[] {
  const lib = yaml();
  const identity = (key: unknown) =>
    lib.isAlias(key) ? `alias:${key.source}` : lib.isCollection(key) ? `${lib.isSeq(key) ? 'seq' : 'map'}:` : `scalar:${lib.isScalar(key) ? goText(key) : ''}`;
  const said: string[] = [];
  const line = (key: unknown) => lineAt(text, (key as { range?: number[] } | null)?.range?.[0] ?? 0) + 1;
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      if (identity(keys[i]) !== identity(keys[j])) continue;
      const [, value] = /^[a-z]+:(.*)$/s.exec(identity(keys[i]))!;
      said.push(`line ${line(keys[j])}: mapping key ${goSyntax(value)} already defined at line ${line(keys[i])}`);
    }
  }
  return said;
}

/**
 * Applies every merge key of `doc` and drops repeated keys, in place. Returns Go's error for a merge it refuses
 * (a value that is no mapping) or for merged keys a string-keyed mapping cannot take.
 */
export function applyMergeKeys(ctx: MergeContext): YAMLParseError | undefined {
  const lib = yaml();
  const { doc } = ctx;
  const mapsOf = () => {
    const found = new Set<YAMLMap>();
    lib.visit(doc, {
      // A node an alias was replaced by stands in several places: its mappings are taken once.
      Map: (_key, map) => (found.has(map) ? lib.visit.SKIP : void found.add(map)),
    });
    return [...found];
  };
  let maps = mapsOf();
  let normalized = new Map(maps.map((m) => [m, normalize(m, ctx)] as const));
  const repeated = [...normalized.values()].flatMap((own) => repeatedKeys(own.keys, ctx.text));
  if (repeated.length > 0) return unmarshalErrors(repeated);
  const changes = [...normalized].some(([map, own]) => own.merged.length > 0 || own.pairs.length < map.items.length);
  if (!changes) return undefined;
  // Pairs are about to be dropped, and with them maybe an anchor that an alias elsewhere still names. An alias
  // merged stays one: Go refuses it when it names anything but a mapping, where a sequence written out is spliced.
  const mergedAt = (path: readonly unknown[]) => {
    const [grand, parent] = path.slice(-2);
    return (lib.isPair(parent) && isMergeKey(parent.key)) || (lib.isSeq(parent) && lib.isPair(grand) && isMergeKey(grand.key) && grand.value === parent);
  };
  const targets = inlineAliases(doc, mergedAt);
  maps = mapsOf();
  normalized = new Map(maps.map((m) => [m, normalize(m, ctx)] as const));
  const typeErrors: string[] = [];
  const wantMap = () => new MergeError('map merge requires map or sequence of maps as the value');

  /** The pairs `source` brings into a mapping that already has `taken`, by Go's first-wins order. */
  const bring = (source: unknown, taken: Set<string>, asText: boolean, out: Pair[]): void => {
    const target = lib.isAlias(source) ? targets.get(source) : source;
    if (!lib.isMap(target)) throw wantMap();
    const own = normalized.get(target) ?? normalize(target, ctx);
    for (const pair of own.pairs) {
      const key = lib.isAlias(pair.key) ? targets.get(pair.key) : pair.key;
      let name: string;
      let keyNode: unknown = pair.key;
      if (asText) {
        if (lib.isCollection(key)) {
          typeErrors.push(`line ${lineAt(ctx.text, key.range?.[0] ?? 0) + 1}: cannot unmarshal !!${lib.isSeq(key) ? 'seq' : 'map'} into string`);
          continue;
        }
        // A null key does not decode into a string: the pair is left out.
        if (!lib.isScalar(key) || key.value === null) continue;
        const text = goText(key);
        keyNode = new lib.Scalar(text);
        name = `str:${text}`;
      } else {
        if (lib.isCollection(key)) {
          const type = lib.isSeq(key) ? '[]interface {}' : stringKeyed(key as YAMLMap, doc) ? 'map[string]interface {}' : 'map[interface {}]interface {}';
          throw new MergeError(`runtime error: hash of unhashable type ${type}`);
        }
        name = goIdentity(key as Scalar, ctx);
      }
      if (taken.has(name)) continue;
      taken.add(name);
      out.push(new lib.Pair(keyNode, pair.value));
    }
    for (const next of own.merged) bring(next, taken, asText, out);
  };

  const flattened = new Map<YAMLMap, Pair[]>();
  try {
    for (const map of maps) {
      const own = normalized.get(map)!;
      if (own.merged.length === 0) {
        flattened.set(map, own.pairs);
        continue;
      }
      const asText = stringKeyed(map, doc);
      // Go counts the merge key among the mapping's own: a merged '<<' key is left out.
      const taken = new Set<string>(['str:<<']);
      for (const pair of own.pairs) {
        const key = lib.isAlias(pair.key) ? targets.get(pair.key) : pair.key;
        if (lib.isScalar(key)) taken.add(goIdentity(key, ctx));
      }
      const out = [...own.pairs];
      for (const next of own.merged) bring(next, taken, asText, out);
      flattened.set(map, out);
    }
  } catch (err) {
    if (err instanceof MergeError) return new lib.YAMLParseError([0, 0], 'BAD_COLLECTION_TYPE', err.message);
    throw err;
  }
  if (typeErrors.length > 0) return unmarshalErrors(typeErrors);
  for (const [map, pairs] of flattened) map.items = pairs as typeof map.items;
  return undefined;
}
