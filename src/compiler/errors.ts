// Compiler errors as values, with OPA's codes and its {code, message, location} shape
// (OPA v1/ast/errors.go prints them as "file:row: code: message").
import type { Location } from './ast.js';
import type { ObjectKey, RegoType } from '../builtins/declarations.js';
import { compareJson } from '../builtins/json-value.js';
import { unifies } from './types.js';
import { isIdentifier } from './rego-text.js';

export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_type_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error';

export interface RegoError {
  code: RegoErrorCode;
  message: string;
  location: { file: string; row: number; col: number };
  /** Parse errors: the source line and the index of the column in it. Type errors: the other details. */
  details?: { line: string; idx: number } | TypeErrorDetails;
}

export type TypeErrorDetails = ArgErrorDetails | RefErrorDetails | RefKeyErrorDetails | MatchErrorDetails;

/** OPA's details of a unification (`a = b`, `a == b`) whose two sides' types can never be equal: the two types. */
export interface MatchErrorDetails {
  a: RegoType;
  b: RegoType;
}

/**
 * OPA's details of a ref the type checker finds undefined: the ref's terms, the index of the last term of the
 * part whose type is known, and that type.
 */
export interface RefErrorDetails {
  ref: Array<{ type: string; value: unknown }>;
  pos: number;
  have: RegoType;
}

/**
 * OPA's details of a ref with a key that no value of the known type has: the ref's terms, the index of that key,
 * the key's type where the key is not a constant, the type of the keys such a value has (null for an empty array
 * or object) and the keys of an object, sorted (null where there are none).
 */
export interface RefKeyErrorDetails {
  ref: RefErrorDetails['ref'];
  pos: number;
  have?: RegoType;
  want: RegoType | null;
  /** The keys as OPA's JSON of AST values has them: null as `{}`, a composite as its terms. */
  oneOf: OneOfKey[] | null;
}

/** One of the keys listed in a RefKeyErrorDetails: a scalar, `{}` for null, an array's terms or an object's pairs. */
export type OneOfKey = string | number | boolean | Record<string, never> | TermJson[] | Array<[TermJson, TermJson]>;

/**
 * OPA's details of a builtin call's type error: the operand types found (null where unknown) and the
 * declaration wanted (its arguments, then its result).
 */
export interface ArgErrorDetails {
  have: Array<RegoType | null>;
  /** No `args` where the function takes none (Go leaves an empty list out). */
  want: { args?: RegoType[]; variadic?: RegoType };
}

/** Whether an error has a location: OPA's "error limit reached" has none (row 0 of no file), and its JSON says so. */
export function isLocated(loc: { file: string; row: number }): boolean {
  return loc.file !== '' || loc.row !== 0;
}

/** An error as OPA's JSON output has it: message, code, location (where it has one), details (where there are any). */
export function errorJson({ message, code, location, details }: RegoError): { message: string; code: RegoErrorCode; location?: RegoError['location']; details?: RegoError['details'] } {
  return { message, code, ...(isLocated(location) ? { location } : {}), ...(details ? { details } : {}) };
}

/** OPA stops after this many errors ("error limit reached") unless told another limit; so do we. */
export const MAX_ERRORS = 10;

export function regoError(code: RegoErrorCode, loc: Location, message: string, source?: string): RegoError {
  const err: RegoError = { code, message, location: { file: loc.file, row: loc.row, col: loc.col } };
  if (source !== undefined) err.details = errorDetail(source, loc.offset);
  return err;
}

/**
 * The source line an error points into and the byte index in it, as OPA's parser reports them: OPA steps back
 * from the offset over whitespace (so an error at end of file shows the last line with text, pointing at its
 * last character), and counts in UTF-8 bytes. Its whitespace test reads single bytes as runes, so the
 * continuation bytes 0x85 and 0xA0 count as whitespace too; kept for identical output.
 */
function errorDetail(source: string, offset: number): { line: string; idx: number } {
  const bytes = Buffer.from(source, 'utf8');
  if (bytes.length === 0) return { line: '', idx: 0 };
  let at = Math.min(Math.max(Buffer.byteLength(source.slice(0, offset), 'utf8'), 0), bytes.length - 1);
  while (at > 0 && isSpaceByte(bytes[at])) at--;
  let begin = at;
  while (begin > 0 && !isNewline(bytes[begin])) begin--;
  if (isNewline(bytes[begin])) begin++;
  let end = at;
  while (end < bytes.length && !isNewline(bytes[end])) end++;
  if (begin > end) begin = end;
  return { line: bytes.subarray(begin, end).toString('utf8'), idx: at - begin };
}

function isNewline(b: number): boolean {
  return b === 0x0a || b === 0x0d;
}

function isSpaceByte(b: number): boolean {
  return (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0x85 || b === 0xa0;
}

/** An error as the compiler, the API and the CLI carry it (the API's details with a code that may be any string). */
export interface LocatedError {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
  details?: RegoError['details'];
}

/**
 * OPA's text form of an error (its Error.Error()), for the compiler's exceptions and every CLI command:
 * "file:row: code: message" ("row:col: " without a file, nothing without a location), then a parse error's
 * source line with a caret under the column, or a type error's have/want lines, each on a tab-indented line.
 */
export function formatRegoError(e: LocatedError): string {
  const at = e.location && isLocated(e.location) ? (e.location.file !== '' ? `${e.location.file}:${e.location.row}: ` : `${e.location.row}:${e.location.col}: `) : '';
  const text = `${at}${e.code}: ${e.message}`;
  if (!e.details) return text;
  if ('ref' in e.details) return [text, ...('want' in e.details ? refKeyErrorLines(e.details) : refErrorLines(e.details))].join('\n\t');
  if ('have' in e.details) return [text, ...argErrorLines(e.details, e.message.endsWith(': arity mismatch'))].join('\n\t');
  if ('a' in e.details) return [text, ...matchErrorLines(e.details)].join('\n\t');
  // OPA drops the line's leading tabs and indents the caret by the bytes that remain before it.
  const line = e.details.line.replace(/^\t+/, '');
  const indent = Math.max(e.details.idx - (e.details.line.length - line.length), 0);
  return `${text}\n\t${line}\n\t${' '.repeat(indent)}^`;
}

/**
 * Both sides' types: in full, or, where a line would be too wide, printed to show where they differ (as arguments
 * are); and for two arrays, objects or sets OPA's hint that they can never be equal.
 */
function matchErrorLines(d: MatchErrorDetails): string[] {
  let lines = [`left  : ${typeText(d.a, Infinity)}`, `right : ${typeText(d.b, Infinity)}`];
  if (lines.some((l) => [...l].length > MAX_LINE_WIDTH)) {
    const [left, right] = typeDiff(d.a, d.b, 0);
    lines = [`left  : ${left}`, `right : ${right}`];
  }
  const kind = d.a.type === d.b.type && (d.a.type === 'array' || d.a.type === 'object' || d.a.type === 'set') ? `${d.a.type}s` : undefined;
  if (kind) lines.push(`hint  : both sides are ${kind} but their types differ, so they can never be equal (see https://www.openpolicyagent.org/docs/errors/rego-type-error/match-error)`);
  return lines;
}

/** The ref, carets under its known part, and that part's type. */
function refErrorLines(d: RefErrorDetails): string[] {
  return [refText(d.ref), '^'.repeat(refText(d.ref.slice(0, d.pos + 1)).length), `have: ${typeText(d.have, Infinity)}`];
}

/**
 * The ref, a caret under the key, the key (or its type where it is no constant), and the keys wanted: an
 * object's keys, else their type (OPA's text for an empty array or object is an empty list of keys).
 */
function refKeyErrorLines(d: RefKeyErrorDetails): string[] {
  const pad = ' '.repeat(Buffer.byteLength(refText(d.ref.slice(0, d.pos))) + 1);
  const have = d.have ? `have (type): ${typeText(d.have, Infinity)}` : `have: ${termText(d.ref[d.pos]!)}`;
  const want = d.oneOf?.length || !d.want ? `want (one of): [${(d.oneOf ?? []).map(oneOfText).join(' ')}]` : `want (type): ${typeText(d.want, Infinity)}`;
  return [refText(d.ref), `${pad}^`, `${pad}${have}`, `${pad}${want}`];
}

type TermJson = RefErrorDetails['ref'][number];

/** A key of a RefKeyErrorDetails as Rego text: `"a"`, `null`, `[1]`, `{"a": 1}`. */
function oneOfText(k: OneOfKey): string {
  if (!Array.isArray(k)) return typeof k === 'object' ? 'null' : JSON.stringify(k);
  if (k.length > 0 && Array.isArray(k[0])) return termText({ type: 'object', value: k });
  return termText({ type: 'array', value: k });
}

/** A ref as OPA prints it: `data.p.x.a`, `x[1]`, `x["a b"]`, `[1, 2][_]`, a wildcard as `_`. */
export function refText(ref: TermJson[]): string {
  return ref
    .map((t, i) => {
      if (i === 0) return t.type === 'var' ? String(t.value) : termText(t);
      if (t.type === 'string' && isIdentifier(String(t.value))) return `.${String(t.value)}`;
      return `[${termText(t)}]`;
    })
    .join('');
}

/** A term in OPA's AST JSON (objects and sets sorted) as Rego text. */
function termText(t: TermJson): string {
  switch (t.type) {
    case 'null': return 'null';
    case 'string': return JSON.stringify(t.value);
    case 'var': return String(t.value).startsWith('$') ? '_' : String(t.value);
    case 'ref': return refText(t.value as TermJson[]);
    case 'array': return `[${(t.value as TermJson[]).map(termText).join(', ')}]`;
    case 'set': return (t.value as TermJson[]).length === 0 ? 'set()' : `{${(t.value as TermJson[]).map(termText).join(', ')}}`;
    case 'object': return `{${(t.value as Array<[TermJson, TermJson]>).map(([k, v]) => `${termText(k)}: ${termText(v)}`).join(', ')}}`;
    case 'call': {
      const [op, ...args] = t.value as TermJson[];
      return `${termText(op!)}(${args.map(termText).join(', ')})`;
    }
    default: return String(t.value);
  }
}

/** Lines wider than this are printed again with nested types elided (OPA's maxTypeErrLineWidth). */
const MAX_LINE_WIDTH = 80;
/**
 * In an elided line, a type wider than this is shown as its outermost constructor (`any<...>`, `array<...>`):
 * 32 characters for an operand that does not match its argument and for every type of an arity mismatch, 20 for
 * the others (OPA's widths, as measured against `opa check`).
 */
const MAX_MISMATCHED_WIDTH = 32;
const MAX_OTHER_WIDTH = 20;

/**
 * "have: (...)" and "want: (...)": in full, or with wide types elided when a line is too wide. `arity`: the
 * operands do not pair with the arguments, so none is compared with its argument's type.
 */
export function argErrorLines(d: ArgErrorDetails, arity: boolean): string[] {
  const args = d.want.args ?? [];
  const wants = [...args, ...(d.want.variadic ? [d.want.variadic] : [])];
  const variadicAt = d.want.variadic ? args.length : -1;
  const wantAt = (i: number) => (i < args.length ? args[i] : d.want.variadic);
  const mismatched = (i: number) => {
    const have = d.have[i];
    const want = wantAt(i);
    return !arity && have !== null && have !== undefined && want !== undefined && !unifies(have, want);
  };
  const other = (t: RegoType | null) => (t === null ? '???' : elided(t, arity ? MAX_MISMATCHED_WIDTH : MAX_OTHER_WIDTH));
  const render = (elide: boolean) => {
    const haves = d.have.map((t, i) => (!elide ? typeText(t, Infinity) : mismatched(i) ? typeDiff(t!, wantAt(i)!, 0)[0] : other(t)));
    const wanted = wants.map((t, i) => {
      const text = !elide ? typeText(t, Infinity) : mismatched(i) ? typeDiff(d.have[i]!, t, 0)[1] : other(t);
      return i === variadicAt ? `${text}...` : text;
    });
    return [`have: (${haves.join(', ')})`, `want: (${wanted.join(', ')})`];
  };
  const full = render(false);
  return full.every((l) => [...l].length <= MAX_LINE_WIDTH) ? full : render(true);
}

/** The type in full if it is at most `width` characters wide (its name aside), else its outermost constructor. */
function elided(t: RegoType, width: number): string {
  return [...typeText({ ...t, name: undefined }, Infinity)].length <= width ? typeText(t, Infinity) : typeText(t, 0);
}

/** Past this depth, two types are no longer compared part by part (OPA's maxTypeDiffDepth). */
const MAX_DIFF_DEPTH = 8;

/**
 * A mismatched operand type and the wanted type, printed to show where they differ: parts equal on both sides are
 * collapsed (`...`), equal object properties and union members left out.
 */
function typeDiff(a: RegoType, b: RegoType, depth: number): [string, string] {
  if (b.name !== undefined) {
    const [l, r] = typeDiff(a, { ...b, name: undefined }, depth);
    return [l, `${b.name}: ${r}`];
  }
  const short = (t: RegoType) => elided(t, MAX_MISMATCHED_WIDTH);
  if (depth >= MAX_DIFF_DEPTH || typeText(a, Infinity) === typeText(b, Infinity)) return [short(a), short(b)];
  if (a.type === 'set' && b.type === 'set' && a.of && b.of) {
    const [l, r] = typeDiff(a.of, b.of, depth + 1);
    return [`set[${l}]`, `set[${r}]`];
  }
  if (a.type === 'array' && b.type === 'array') {
    const la = a.static?.length ?? 0;
    if (la !== (b.static?.length ?? 0) || !a.dynamic !== !b.dynamic) return [typeText(a, 1), typeText(b, 1)];
    const pairs = (a.static ?? []).map((t, i) => typeDiff(t, b.static![i]!, depth + 1));
    const dyn = a.dynamic && b.dynamic ? typeDiff(a.dynamic, b.dynamic, depth + 1) : undefined;
    return [0, 1].map((side) => compositeText('array', pairs.map((p) => p[side]!), dyn?.[side])) as [string, string];
  }
  if (a.type === 'object' && b.type === 'object') {
    const left: string[] = [];
    const right: string[] = [];
    let same = false;
    const keys = [...(a.static ?? []), ...(b.static ?? [])].map((p) => p.key).sort(compareJson).filter((k, i, all) => i === 0 || compareJson(all[i - 1], k) !== 0);
    for (const key of keys) {
      const x = a.static?.find((p) => compareJson(p.key, key) === 0)?.value;
      const y = b.static?.find((p) => compareJson(p.key, key) === 0)?.value;
      if (x && !y) left.push(`${keyText(key)}: ${short(x)}`);
      else if (y && !x) right.push(`${keyText(key)}: ${short(y)}`);
      else if (typeText(x!, Infinity) === typeText(y!, Infinity)) same = true;
      else {
        const [l, r] = typeDiff(x!, y!, depth + 1);
        left.push(`${keyText(key)}: ${l}`);
        right.push(`${keyText(key)}: ${r}`);
      }
    }
    let dynLeft: string | undefined;
    let dynRight: string | undefined;
    if (a.dynamic && b.dynamic) {
      const [kl, kr] = typeDiff(a.dynamic.key, b.dynamic.key, depth + 1);
      const [vl, vr] = typeDiff(a.dynamic.value, b.dynamic.value, depth + 1);
      [dynLeft, dynRight] = [`${kl}: ${vl}`, `${kr}: ${vr}`];
    } else if (a.dynamic) dynLeft = `${short(a.dynamic.key)}: ${short(a.dynamic.value)}`;
    else if (b.dynamic) dynRight = `${short(b.dynamic.key)}: ${short(b.dynamic.value)}`;
    const withSame = (parts: string[]) => (same ? [...parts, '...'] : parts);
    return [compositeText('object', withSame(left), dynLeft), compositeText('object', withSame(right), dynRight)];
  }
  if (a.type === 'any' && b.type === 'any' && a.of && b.of) {
    const has = (xs: RegoType[], t: RegoType) => xs.some((x) => typeText(x, Infinity) === typeText(t, Infinity));
    const same = a.of.some((t) => has(b.of!, t));
    const side = (xs: RegoType[], ys: RegoType[]) => {
      const parts = xs.filter((t) => !has(ys, t)).map(short);
      const all = same ? [...parts, '...'] : parts;
      return all.length > 0 ? `any<${all.join(', ')}>` : 'any';
    };
    return [side(a.of, b.of), side(b.of, a.of)];
  }
  return [short(a), short(b)];
}

/** An object type's static key as Go prints it (`%v`): strings bare, null as `<nil>`, `[1 a]`, `map[a:1]`. */
function keyText(key: ObjectKey): string {
  if (key === null) return '<nil>';
  if (Array.isArray(key)) return `[${key.map(keyText).join(' ')}]`;
  if (typeof key === 'object') return `map[${Object.keys(key).sort().map((k) => `${k}:${keyText(key[k]!)}`).join(' ')}]`;
  return String(key);
}

function compositeText(prefix: string, items: string[], dynamic: string | undefined): string {
  return `${prefix}${items.length > 0 ? `<${items.join(', ')}>` : ''}${dynamic !== undefined ? `[${dynamic}]` : ''}`;
}

/** A type as OPA prints it (`array<number, string>`, `object[string: any]`), parts nested below `depth` as `...`. */
function typeText(t: RegoType | null, depth: number): string {
  if (t === null) return '???';
  const named = t.name !== undefined ? `${t.name}: ` : '';
  const inner = (x: RegoType) => typeText(x, depth - 1);
  const parts = (xs: string[]) => (depth === 0 && xs.length > 0 ? ['...'] : xs);
  const part = (x: string | undefined) => (depth === 0 && x !== undefined ? '...' : x);
  switch (t.type) {
    case 'any':
      return named + (t.of && t.of.length > 0 ? `any<${parts(t.of.map(inner)).join(', ')}>` : 'any');
    case 'array':
      return named + compositeText('array', parts((t.static ?? []).map(inner)), part(t.dynamic && inner(t.dynamic)));
    case 'object':
      return named + compositeText('object', parts((t.static ?? []).map((p) => `${keyText(p.key)}: ${inner(p.value)}`)), part(t.dynamic && `${inner(t.dynamic.key)}: ${inner(t.dynamic.value)}`));
    case 'set':
      return t.of ? `${named}set[${depth === 0 ? '...' : inner(t.of)}]` : `${named}set`;
    default:
      return named + t.type;
  }
}

/** OPA's order of errors: by file, row and column, then by message. */
export function compareErrors(x: { file: string; row: number; col: number }, xMessage: string, y: { file: string; row: number; col: number }, yMessage: string): number {
  // An error with no location comes after those with one, as in OPA.
  if (isLocated(x) !== isLocated(y)) return isLocated(x) ? -1 : 1;
  if (x.file !== y.file) return x.file < y.file ? -1 : 1;
  if (x.row !== y.row) return x.row - y.row;
  if (x.col !== y.col) return x.col - y.col;
  return xMessage < yMessage ? -1 : xMessage > yMessage ? 1 : 0;
}
