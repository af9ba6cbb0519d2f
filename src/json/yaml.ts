// YAML documents (input files, -d data, bundle data.yaml, request bodies) read as OPA reads them: Go's YAML
// decoder (go-yaml v2 behind sigs.k8s.io/yaml) and then JSON. Its scalars are neither YAML 1.1's nor 1.2's:
//   - booleans and nulls are YAML 1.2's (true/True/TRUE, false/..., ~/null/Null/NULL): yes/no/on/off stay strings;
//   - an integer is whatever Go's strconv.ParseInt(s, 0, 64) takes once underscores are dropped: 010 is 8 (octal),
//     0x1F, 0o17, 0b101 and 1_000 are numbers; past int64, uint64; past that, a decimal one is a float;
//   - a float is [-+]?(.d+|d+(.d*)?)([eE][-+]?d+)? (underscores dropped); one out of float64's range stays a string;
//   - .inf, .nan and their kin are Go's ±Inf and NaN, which JSON cannot carry: the document is refused;
//   - timestamps and sexagesimal numbers stay strings; mapping keys become the text of their value (010: is "8"),
//     and of a key given twice the last value wins;
//   - a mapping key JSON cannot name is refused: an empty or null key, a sequence or a mapping (a null or
//     collection key, like .inf, only in the first document of a stream, the one Go converts to JSON).
import type { Document, ScalarTag, Schema, YAMLParseError } from 'yaml';
import { lazyRequire } from '../lazy-require.js';
import { NumberText } from './number-text.js';
import { goSyntax } from '../builtins/sprintf.js';

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

/** Go's ParseInt(s, 0, 64), then ParseUint, then ParseFloat for YAML's float form; undefined where all fail. */
export function goYamlNumber(text: string): number | NumberText | string | undefined {
  const plain = text.replace(/_/g, '');
  if (GO_INT.test(plain)) {
    const negative = plain.startsWith('-');
    const body = plain.replace(/^[-+]/, '');
    const digits = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body.replace(/^0([XBO])/, (_m, p: string) => `0${p.toLowerCase()}`);
    const magnitude = BigInt(digits);
    const n = negative ? -magnitude : magnitude;
    if ((n >= INT64_MIN && n <= INT64_MAX) || (!negative && n <= UINT64_MAX)) return exactInteger(n);
  }
  if (!YAML_FLOAT.test(plain)) return undefined;
  const f = Number(plain);
  // Go's ParseFloat fails out of range (1e400), and the scalar stays a string.
  return Number.isFinite(f) ? float(f) : text;
}

function refuse(value: string): never {
  throw new SyntaxError(`json: unsupported value: ${value}`);
}

const numberTag: ScalarTag = {
  identify: (v) => typeof v === 'number' || v instanceof NumberText,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: NUMERIC_LOOKING,
  resolve: (text) => goYamlNumber(text) ?? text,
};

const explicitFloat: ScalarTag = {
  identify: () => false,
  default: false,
  tag: 'tag:yaml.org,2002:float',
  resolve: (text) => goYamlNumber(text) ?? text,
};

const infinityTag: ScalarTag = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:float',
  test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  resolve: (text) => refuse(/nan/i.test(text) ? 'NaN' : text.startsWith('-') ? '-Inf' : '+Inf'),
};

let schema: Schema | undefined;

function opaSchema(): Schema {
  return (schema ??= new (yaml().Schema)({
    schema: 'core',
    customTags: (core) => [...core.filter((t) => typeof t === 'string' || !/:(int|float)$/.test(t.tag)), infinityTag, numberTag, explicitFloat],
  }));
}

/**
 * The mapping keys Go's decoder refuses, which the YAML reader takes: a key left out (`: a`, where Go's parser
 * finds no key, or in a flow collection no node), a null one (`~: a`, or `?` with nothing after it), which the
 * JSON conversion refuses naming the value, and a sequence or mapping as key. `text` is the document's source;
 * `converted`: whether the document goes on to JSON, where the null and collection keys fail.
 */
function refusedKeys(doc: Document, text: string, converted = true): YAMLParseError[] {
  const lib = yaml();
  const errors: YAMLParseError[] = [];
  lib.visit(doc, {
    Pair(_key, pair, path) {
      const key = pair.key as { range?: [number, number, number]; tag?: string; anchor?: string } | null;
      const at: [number, number] = key?.range ? [key.range[0], key.range[1]] : [0, 0];
      const parent = path[path.length - 1];
      const message = (said: string) => new lib.YAMLParseError(at, 'BAD_SCALAR_START', said);
      const js = (node: unknown) => (lib.isNode(node) ? node.toJS(doc) : null) as unknown;
      if (key === null || (lib.isScalar(key) && key.value === null)) {
        const flow = lib.isCollection(parent) && parent.flow === true;
        // `?` (outside a flow sequence), a tag or an anchor makes an empty key a null one rather than none.
        const explicit = key !== null && (key.tag !== undefined || key.anchor !== undefined || (/(?:^|[\s{,])\?\s*$/.test(text.slice(0, at[0])) && !lib.isSeq(parent)));
        const empty = !explicit && (key === null || key.range === undefined || key.range[0] === key.range[1]);
        if (empty) errors.push(message(flow ? 'did not find expected node content' : 'did not find expected key'));
        else if (converted) errors.push(message(`unsupported map key of type: %!s(<nil>), key: <nil>, value: ${goSyntax(js(pair.value))}`));
      } else if (lib.isCollection(key) && converted) {
        errors.push(message(`invalid map key: ${goSyntax(js(key))}`));
      }
    },
  });
  return errors;
}

/** Parses one YAML document (an empty one is null) into the values OPA's decoder makes of it. */
export function parseYamlAsOpa(text: string): unknown {
  const doc = yaml().parseDocument(text, { schema: opaSchema(), merge: false, uniqueKeys: false });
  const error = doc.errors[0] ?? refusedKeys(doc, text)[0];
  if (error) throw error;
  return doc.toJS() as unknown;
}

/**
 * Every document of a YAML stream with OPA's scalars, each with its errors (yaml.unmarshal, yaml.is_valid). Go
 * parses every document but converts only the first to JSON, so a key or value JSON cannot carry (a null or
 * collection key, .inf, .nan) is an error there and nowhere else.
 */
export function yamlDocumentsAsOpa(text: string): ReturnType<typeof import('yaml').parseAllDocuments> {
  const docs = yaml().parseAllDocuments(text, { schema: opaSchema(), merge: false, uniqueKeys: false });
  (Array.isArray(docs) ? docs : [docs]).forEach((doc, i) => {
    if (i > 0) doc.errors.splice(0, doc.errors.length, ...doc.errors.filter((e) => !e.message.startsWith('json: ')));
    if (doc.errors.length === 0) doc.errors.push(...refusedKeys(doc as Document, text, i === 0));
  });
  return docs;
}
