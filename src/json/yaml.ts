// YAML documents (input files, -d data, bundle data.yaml, request bodies) read as OPA reads them: Go's YAML
// decoder (go-yaml v3, in OPA's own wrapper that folds merge keys and repeated keys) and then JSON. Its scalars
// are neither YAML 1.1's nor 1.2's:
//   - booleans and nulls are YAML 1.2's (true/True/TRUE, false/..., ~/null/Null/NULL): yes/no/on/off stay strings;
//   - an integer is whatever Go's strconv.ParseInt(s, 0, 64) takes once underscores are dropped: 010 is 8 (octal),
//     0x1F, 0o17, 0b101 and 1_000 are numbers; past int64, uint64; past that, a decimal one is a float;
//   - a float is [-+]?(.d+|d+(.d*)?)([eE][-+]?d+)? (underscores dropped); one out of float64's range stays a string;
//   - .inf, .nan and their kin are Go's ±Inf and NaN, which JSON cannot carry: as values, the document is refused;
//   - timestamps (but those tagged !!timestamp, yaml-timestamp.ts) and sexagesimal numbers stay strings;
//   - mapping keys become the text of their value (010: is "8", a float key its float32 text: 1e6: is "1e+06",
//     .inf: is ".inf"), and of a key given twice the last value wins;
//   - a mapping key JSON cannot name is refused: an empty or null key, a sequence or a mapping (a null or
//     collection key, like .inf, only in the first document of a stream, the one Go converts to JSON).
import type { Document, Node as YamlNode, Scalar, ScalarTag, Schema, YAMLParseError, visitor } from 'yaml';
import { lazyRequire } from '../lazy-require.js';
import { NumberText } from './number-text.js';
import { goFormatFloat, goSyntax } from '../builtins/sprintf.js';
import { cloneJson } from './clone.js';
import { excessiveAliasing, goAnchorNames } from './yaml-anchors.js';
import { goBase64, goBytesText } from './yaml-binary.js';
import { goTimestamp } from './yaml-timestamp.js';
import { lineAt, questionInFlowSequence } from './yaml-flow-question.js';
import { applyMergeKeys } from './yaml-merge.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A plain scalar Go's resolver reads as a number: it starts with a sign, a digit or a point. */
const NUMERIC_LOOKING = /^[-+.0-9][-+._0-9a-zA-Z]*$/;
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/;
const YAML_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** A number as the JSON OPA decodes it: a JS number where that is exact, else its text. */
function exactInteger(n: bigint): number | NumberText {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : new NumberText(n.toString());
}

function float(f: number): number | NumberText {
  return Object.is(f, -0) ? new NumberText('-0') : f;
}

/** Go's ParseInt(plain, 0, 64), then ParseUint: undefined where both fail. */
function goInteger(plain: string): bigint | undefined {
  if (!GO_INT.test(plain)) return undefined;
  const negative = plain.startsWith('-');
  const body = plain.replace(/^[-+]/, '');
  const digits = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body.replace(/^0([XBO])/, (_m, p: string) => `0${p.toLowerCase()}`);
  const magnitude = BigInt(digits);
  const n = negative ? -magnitude : magnitude;
  return (n >= INT64_MIN && n <= INT64_MAX) || (!negative && n <= UINT64_MAX) ? n : undefined;
}

/** Go's ParseInt(s, 0, 64), then ParseUint, then ParseFloat for YAML's float form; undefined where all fail. */
export function goYamlNumber(text: string): number | NumberText | string | undefined {
  const plain = text.replace(/_/g, '');
  const n = goInteger(plain);
  if (n !== undefined) return exactInteger(n);
  if (!YAML_FLOAT.test(plain)) return undefined;
  const f = Number(plain);
  // Go's ParseFloat fails out of range (1e400), and the scalar stays a string.
  return Number.isFinite(f) ? float(f) : text;
}

const numberTag: ScalarTag = {
  identify: (v) => typeof v === 'number' || v instanceof NumberText,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: NUMERIC_LOOKING,
  resolve: (text) => goYamlNumber(text) ?? text,
};

const infinityTag: ScalarTag = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:float',
  test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  // Go's ±Inf and NaN; JSON refuses them after the keys are converted (unsupportedValues).
  resolve: (text) => (/nan/i.test(text) ? NaN : text.startsWith('-') ? -Infinity : Infinity),
};

const explicitFloat: ScalarTag = {
  identify: () => false,
  default: false,
  tag: 'tag:yaml.org,2002:float',
  resolve: (text, onError, options) => (infinityTag.test!.test(text) ? infinityTag.resolve(text, onError, options) : (goYamlNumber(text) ?? text)),
};

let schema: Schema | undefined;

function opaSchema(): Schema {
  return (schema ??= new (yaml().Schema)({
    schema: 'core',
    customTags: (core) => [...core.filter((t) => typeof t === 'string' || !/:(int|float)$/.test(t.tag)), infinityTag, numberTag, explicitFloat],
  }));
}

/** Whether Go's decoder makes a float64 of a scalar (1e6, 10.0, .inf, an integer past uint64), not an int. */
function isGoFloat(scalar: Scalar): boolean {
  const v = scalar.value;
  if (typeof v !== 'number' && !(v instanceof NumberText)) return false;
  if (scalar.tag === 'tag:yaml.org,2002:float' || (typeof v === 'number' && !Number.isSafeInteger(v))) return true;
  return !GO_INT.test((scalar.source ?? String(v)).replace(/_/g, ''));
}

/**
 * A mapping key as the JSON conversion names it: an integer's digits, a boolean's word, and a float as Go's
 * FormatFloat(f, 'g', -1, 32) writes it (1e6 is "1e+06", 123456789.0 "1.2345679e+08"), ±Inf and NaN as
 * ".inf", "-.inf" and ".nan". Strings stay; null and collection keys are refused (refusedKeys).
 */
function goKeyText(key: Scalar): string | undefined {
  const v = key.value;
  if (typeof v === 'boolean') return String(v);
  if (typeof v !== 'number' && !(v instanceof NumberText)) return undefined;
  if (!isGoFloat(key)) return String(v);
  const text = goFormatFloat(Number(v), 32);
  return text === '+Inf' ? '.inf' : text === '-Inf' ? '-.inf' : text === 'NaN' ? '.nan' : text;
}

/** Gives every scalar mapping key of `doc` its JSON name, so the document converts as Go's does. */
function nameKeys(doc: Document): void {
  const lib = yaml();
  lib.visit(doc, {
    Pair(_key, pair) {
      const key = resolved(pair.key, doc);
      if (!lib.isScalar(key)) return;
      const text = goKeyText(key);
      if (text !== undefined) pair.key = new lib.Scalar(text);
    },
  });
}

/** The node an alias names (itself if not an alias). */
function resolved(node: unknown, doc: Document): unknown {
  const lib = yaml();
  return lib.isAlias(node) ? node.resolve(doc) : node;
}

/**
 * A node's value as Go's decoder types it, for the Go syntax of an error: floats stay floats (1e6 prints as
 * 1e+06, not as the integer a JS number would make of it), so they are handed on as number texts in
 * exponent form, which goSyntax prints as float64.
 */
function goTyped(node: unknown, doc: Document): unknown {
  const lib = yaml();
  const named = resolved(node, doc);
  if (!lib.isNode(named)) return null;
  const copy = named.clone() as YamlNode;
  lib.visit(copy, {
    // What an alias names, copied in, so its floats are typed too.
    Alias: (_key, alias) => (alias.resolve(doc) as YamlNode | undefined)?.clone() as YamlNode | undefined,
    Scalar(_key, scalar) {
      if (typeof scalar.value === 'number' && Number.isFinite(scalar.value) && isGoFloat(scalar)) scalar.value = new NumberText(scalar.value.toExponential());
    },
  });
  return copy.toJS(doc) as unknown;
}

/** Where a node stands in the text, for an error about it; the start of the text for a node with no place. */
function spanOf(node: unknown): [number, number] {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? [range[0], range[1]] : [0, 0];
}

/** The errors a visit of `doc` pushes onto `errors`; a visitor may stop at the first it finds. */
function findErrors(doc: Document, visitorOf: (lib: typeof import('yaml'), errors: YAMLParseError[]) => visitor): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  yaml().visit(doc, visitorOf(yaml(), errors));
  return errors;
}

/** A flow sequence Go's parser reads where the YAML reader does not: Go's null key in it, with its value. */
interface GoReadSequence {
  start: number;
  end: number;
  nullKey: YAMLParseError;
}

const within = (sequences: GoReadSequence[], at: number) => sequences.some((s) => at >= s.start && at < s.end);

/** The error Go's JSON conversion gives for a null key whose value is the text at `value` (none: null). */
function nullKeyError(at: [number, number], value: [number, number] | undefined, text: string): YAMLParseError {
  const node = value ? yaml().parseDocument(text.slice(...value), { schema: opaSchema() }) : undefined;
  const said = node && node.errors.length === 0 ? goSyntax(goTyped(node.contents, node)) : '<nil>';
  return new (yaml().YAMLParseError)(at, 'BAD_SCALAR_START', `unsupported map key of type: %!s(<nil>), key: <nil>, value: ${said}`);
}

/**
 * The mapping keys Go's parser refuses, which the YAML reader takes: a key left out (`: a`, where Go's parser
 * finds no key, or in a flow collection no node), and `?` with no key in a flow sequence, unless Go reads that
 * sequence to its end after all, which is added to `goRead`. `text` is the document's source.
 */
function missingKeys(doc: Document, text: string, goRead: GoReadSequence[]): YAMLParseError[] {
  return findErrors(doc, (lib, errors) => ({
    Pair(_key, pair, path) {
      const key = pair.key as { range?: [number, number, number]; tag?: string; anchor?: string } | null;
      if (!(key === null || (lib.isScalar(key) && key.value === null))) return;
      const at = spanOf(key);
      if (within(goRead, at[0])) return;
      const parent = path[path.length - 1] as { range?: [number, number, number]; flow?: boolean } | undefined;
      const flow = lib.isCollection(parent) && parent.flow === true;
      // `?` (outside a flow sequence), a tag or an anchor makes an empty key a null one rather than none.
      const question = /(?:^|[\s{,[])\?\s*$/.test(text.slice(0, at[0]));
      // A `key: value` entry of a flow sequence is a one-pair flow map that starts at its key, not at a `{`.
      const inSequence = flow && lib.isSeq(path[path.length - 2]) && text[parent?.range?.[0] ?? 0] !== '{';
      const explicit = key !== null && (key.tag !== undefined || key.anchor !== undefined || (question && !inSequence));
      const empty = !explicit && (key === null || key.range === undefined || key.range[0] === key.range[1]);
      if (!empty) return;
      if (question && inSequence) {
        const sequences: number[] = [];
        let i = path.length - 2;
        for (; i >= 0 && lib.isSeq(path[i]) && (path[i] as { flow?: boolean }).flow; i--) sequences.push((path[i] as { range?: [number, number, number] }).range?.[0] ?? 0);
        const outerFlow = path.slice(0, i + 1).filter((p) => lib.isCollection(p) && p.flow === true).length;
        const read = questionInFlowSequence(text, at[0], sequences, outerFlow, i >= 0 && lib.isDocument(path[i]));
        if (read && 'message' in read) {
          errors.push(new lib.YAMLParseError(at, 'BAD_SCALAR_START', read.message));
          return;
        }
        if (read) {
          const start = sequences[sequences.length - 1]!;
          goRead.push({ start, end: read.end, nullKey: nullKeyError([start, start], read.value, text) });
          return;
        }
      }
      // Go's parser names the line where the enclosing collection starts, or, on the first line, the `:`'s.
      const valueAt = (pair.value as { range?: [number, number, number] } | null)?.range?.[0] ?? at[0];
      const line = lineAt(text, parent?.range?.[0] ?? 0) || lineAt(text, valueAt);
      // In a flow sequence, `? :` ends the entry where Go expects the next one or the end.
      const said = question && inSequence ? "did not find expected ',' or ']'" : flow ? 'did not find expected node content' : 'did not find expected key';
      errors.push(new lib.YAMLParseError(at, 'BAD_SCALAR_START', line > 0 ? `line ${line}: ${said}` : said));
    },
  }));
}

/**
 * The mapping keys the JSON conversion refuses: a null one (`~: a`, or `?` with nothing after it), named with
 * the value, and a sequence or mapping, also when an alias names it.
 */
function unconvertibleKeys(doc: Document): YAMLParseError[] {
  return findErrors(doc, (lib, errors) => ({
    Pair(_key, pair) {
      const key = resolved(pair.key, doc);
      const at = spanOf(pair.key);
      if (key === null || (lib.isScalar(key) && key.value === null)) {
        errors.push(new lib.YAMLParseError(at, 'BAD_SCALAR_START', `unsupported map key of type: %!s(<nil>), key: <nil>, value: ${goSyntax(goTyped(pair.value, doc))}`));
      } else if (lib.isCollection(key)) {
        errors.push(new lib.YAMLParseError(at, 'BAD_SCALAR_START', `invalid map key: ${goSyntax(goTyped(key, doc))}`));
      }
    },
  }));
}

/**
 * Aliases Go's decoder refuses: one naming no anchor before it (in any document), and, in the first document
 * (the one it converts), one inside the very node its anchor names (`&a [*a]`), which converting would never finish.
 */
function badAliases(doc: Document, converted: boolean): YAMLParseError[] {
  return findErrors(doc, (lib, errors) => ({
    Alias(_key, alias, path) {
      const target = alias.resolve(doc);
      if (target !== undefined && !(converted && path.includes(target as never))) return;
      errors.push(new lib.YAMLParseError([-1, -1], 'BAD_ALIAS', target === undefined ? `unknown anchor '${alias.source}' referenced` : `anchor '${alias.source}' value contains itself`));
      return lib.visit.BREAK;
    },
  }));
}

const CORE_TAG = 'tag:yaml.org,2002:';
/** The tags Go's decoder checks a scalar against (a timestamp is parsed, yaml-timestamp.ts). */
const CHECKED_TAGS = new Set(['null', 'bool', 'int', 'float']);
const GO_NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const GO_BOOLS = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE']);

/** The tag Go's resolver gives a scalar's text with no tag: null, bool, int, float or str. */
function goImplicitTag(text: string): string {
  if (GO_NULLS.has(text)) return 'null';
  if (GO_BOOLS.has(text)) return 'bool';
  if (infinityTag.test!.test(text)) return 'float';
  if (!NUMERIC_LOOKING.test(text)) return 'str';
  const plain = text.replace(/_/g, '');
  if (goInteger(plain) !== undefined) return 'int';
  return YAML_FLOAT.test(plain) && Number.isFinite(Number(plain)) ? 'float' : 'str';
}

/**
 * Go's decoder, scalar by scalar in document order: a `!!binary` one is base64-decoded to the text Go's JSON
 * conversion makes of its bytes, and one tagged null, bool, int or float must read as that (an int does for a
 * float). The first it cannot decode stops it, with Go's words.
 */
function decodeScalars(doc: Document): YAMLParseError | undefined {
  let failed: YAMLParseError | undefined;
  yaml().visit(doc, {
    Scalar(_key, scalar) {
      const tag = scalar.tag?.startsWith(CORE_TAG) ? scalar.tag.slice(CORE_TAG.length) : undefined;
      const text = typeof scalar.source === 'string' ? scalar.source : typeof scalar.value === 'string' ? scalar.value : undefined;
      if (tag === undefined || text === undefined) return;
      let said: string | undefined;
      if (tag === 'binary') {
        const bytes = goBase64(text);
        if (bytes) scalar.value = goBytesText(bytes);
        else said = '!!binary value contains invalid base64 data';
      } else if (tag === 'timestamp') {
        const time = goTimestamp(text);
        if (time) scalar.value = time;
        else said = `cannot decode !!${goImplicitTag(text)} \`${text}\` as a !!timestamp`;
      } else if (CHECKED_TAGS.has(tag)) {
        const found = goImplicitTag(text);
        if (found !== tag && !(tag === 'float' && found === 'int')) said = `cannot decode !!${found} \`${text}\` as a !!${tag}`;
      }
      if (said === undefined) return;
      failed = new (yaml().YAMLParseError)(spanOf(scalar), 'BAD_SCALAR_START', said);
      return yaml().visit.BREAK;
    },
  });
  return failed;
}

/** ±Inf and NaN, which Go's JSON encoder refuses once the document has converted. */
function unsupportedValues(doc: Document): YAMLParseError[] {
  return findErrors(doc, (lib, errors) => ({
    Scalar(_key, scalar) {
      const v = scalar.value;
      if (typeof v !== 'number' || Number.isFinite(v)) return;
      errors.push(new lib.YAMLParseError(spanOf(scalar), 'BAD_SCALAR_START', `json: unsupported value: ${goSyntax(v)}`));
      return lib.visit.BREAK;
    },
  }));
}

/**
 * Go's errors for a parsed document, first to last: syntax (the YAML reader's, a key left out, or `scanned`, a
 * name Go's scanner refuses), then alias expansion and the JSON conversion's keys, then its values.
 */
function opaErrors(doc: Document, text: string, converted: boolean, scanned?: YAMLParseError): YAMLParseError[] {
  const goRead: GoReadSequence[] = [];
  const missing = missingKeys(doc, text, goRead);
  // What the YAML reader finds wrong in a flow sequence Go reads to its end is no error to Go.
  const syntax = (scanned ? [scanned, ...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]) : doc.errors).filter((e) => !within(goRead, e.pos[0]));
  if (syntax.length > 0) {
    // Go's parser stops at the first error in the text, whichever reader would have seen it.
    const first = syntax[0]!.pos[0];
    const before = missing.filter((e) => e.pos[0] <= first);
    return before.length > 0 ? before : syntax;
  }
  if (missing.length > 0) return missing;
  const aliases = badAliases(doc, converted);
  if (aliases.some((e) => e.message.startsWith('unknown anchor')) || !converted) return aliases;
  return decoded(decodeErrors(doc, text, aliases, goRead));
}

/** Errors Go meets only once the whole stream has parsed: decoding and converting the first document. */
const decodeStage = new WeakSet<YAMLParseError>();

function decoded(errors: YAMLParseError[]): YAMLParseError[] {
  for (const e of errors) decodeStage.add(e);
  return errors;
}

/** The errors of decoding a parsed first document and converting it to JSON, in Go's order. */
function decodeErrors(doc: Document, text: string, aliases: YAMLParseError[], goRead: GoReadSequence[]): YAMLParseError[] {
  if (aliases.length > 0) return aliases;
  const expansion = excessiveAliasing(doc);
  if (expansion) return [expansion];
  const scalar = decodeScalars(doc);
  if (scalar) return [scalar];
  const merging = applyMergeKeys({ doc, text, jsonName: (key) => (typeof key.value === 'string' ? key.value : goKeyText(key)), isFloat: isGoFloat });
  if (merging) return [merging];
  const keys = [...goRead.map((s) => s.nullKey), ...unconvertibleKeys(doc).filter((e) => !within(goRead, e.pos[0]))].sort((a, b) => a.pos[0] - b.pos[0]);
  if (keys.length > 0) return keys;
  nameKeys(doc);
  return unsupportedValues(doc);
}

/**
 * The JSON value of a document that converts. Go copies what an alias names wherever it appears; the YAML
 * library hands back the one value each time, which a later change to one place would change in all, so a
 * document with aliases is copied (excessiveAliasing has bounded the copy as Go bounds its own).
 */
function documentValue(doc: Document): unknown {
  const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
  const lib = yaml();
  let aliased = false;
  lib.visit(doc, {
    Alias() {
      aliased = true;
      return lib.visit.BREAK;
    },
  });
  return aliased ? cloneJson(value) : value;
}

/**
 * How deep collections may nest. Go's decoder takes 10,000 levels; the YAML library and the walks over its nodes
 * recurse, and past a few hundred levels the JS stack runs out (at worst inside V8's own code, which ends the
 * process), so deeper documents are refused before they are built.
 */
export const MAX_YAML_DEPTH = 256;

/** A document nested deeper than MAX_YAML_DEPTH. */
export class YamlDepthError extends Error {
  override name = 'YamlDepthError';
  constructor() {
    super(`yaml: exceeded max depth of ${MAX_YAML_DEPTH}`);
  }
}

/** Refuses a text whose collections nest deeper than MAX_YAML_DEPTH, found without recursion. */
function checkNesting(text: string): void {
  // Every level opens with one of these: most texts have too few of them to need the syntax tree.
  let openers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b || c === 0x2d || c === 0x3a || c === 0x3f) openers++;
  }
  if (openers <= MAX_YAML_DEPTH) return;
  type CstToken = { type: string; value?: CstToken; items?: Array<{ key?: CstToken | null; value?: CstToken }> };
  const pending: Array<[CstToken, number]> = [];
  for (const token of new (yaml().Parser)().parse(text)) pending.push([token as CstToken, 0]);
  while (pending.length > 0) {
    const [token, depth] = pending.pop()!;
    if (token.type === 'document' && token.value) pending.push([token.value, depth]);
    if (!token.items) continue;
    if (depth + 1 > MAX_YAML_DEPTH) throw new YamlDepthError();
    for (const item of token.items) {
      if (item.key) pending.push([item.key, depth + 1]);
      if (item.value) pending.push([item.value, depth + 1]);
    }
  }
}

/**
 * A block scalar (| or >) whose last line ends the text without a line break: Go's scanner adds no final line
 * break it did not read, where the YAML reader gives one.
 */
function unterminatedBlockScalar(doc: Document, text: string): void {
  if (/[\r\n][ \t]*$/.test(text)) return;
  const lib = yaml();
  lib.visit(doc, {
    Scalar(_key, scalar) {
      const block = scalar.type === 'BLOCK_LITERAL' || scalar.type === 'BLOCK_FOLDED';
      if (block && scalar.range?.[1] === text.length && typeof scalar.value === 'string' && scalar.value.endsWith('\n')) scalar.value = scalar.value.slice(0, -1);
    },
  });
}

/**
 * The first document of a YAML stream (an empty stream is null) as the value OPA's decoder makes of it. Go
 * parses the documents after it too before it decodes the first, so a syntax error in any of them is thrown
 * ahead of the first document's decoding errors.
 */
export function parseYamlAsOpa(text: string): unknown {
  const docs = yamlDocumentsAsOpa(text);
  const broken = docs.find((doc) => doc.errors.some((e) => !decodeStage.has(e))) ?? docs.find((doc) => doc.errors.length > 0);
  if (broken) throw broken.errors[0]!;
  return docs.length === 0 ? null : documentValue(docs[0]!);
}

/**
 * Every document of a YAML stream with OPA's scalars, each with its errors (yaml.unmarshal, yaml.is_valid). Go
 * parses every document but converts only the first to JSON, so a key or value JSON cannot carry (a null or
 * collection key, .inf, .nan) is an error there and nowhere else.
 */
export function yamlDocumentsAsOpa(text: string): Document[] {
  checkNesting(text);
  const read = goAnchorNames(text);
  // Merge keys are applied as Go's decoder applies them (applyMergeKeys), not as the YAML library would.
  const docs = yaml().parseAllDocuments(read.text, { schema: opaSchema(), merge: false, uniqueKeys: false });
  const all = (Array.isArray(docs) ? docs : [docs]) as Document[];
  // Go's scanner error belongs to the document it stops in: the last one starting before it.
  let scannedIn = 0;
  all.forEach((doc, i) => {
    if (read.error && (doc.range?.[0] ?? 0) <= read.error.pos[0]) scannedIn = i;
  });
  all.forEach((doc, i) => {
    unterminatedBlockScalar(doc, read.text);
    doc.errors.splice(0, doc.errors.length, ...opaErrors(doc, read.text, i === 0, i === scannedIn ? read.error : undefined));
  });
  return all;
}
