// The JSON reader for everything Verdict is sent (request bodies, query parameters, bundle data): numbers
// keep their text where a JS number would change it (see number-text.ts), nesting is limited as Go's
// encoding/json limits it (10,000 levels, "exceeded max depth"), later duplicate keys win, and errors carry
// Go's wording, so the messages match OPA's.
import { NumberText, numberFromText, printsBack } from './number-text.js';

/** Go's encoding/json nesting limit, which OPA inherits for bodies and bundle files. */
export const MAX_JSON_DEPTH = 10_000;

export class JsonSyntaxError extends SyntaxError {
  override name = 'JsonSyntaxError';
  constructor(
    message: string,
    /** Character offset the reader stopped at. */
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface ReadOptions {
  /**
   * 'ignore': read the first value and ignore what follows, as Go's json.Decoder (OPA's request bodies);
   * 'error': only whitespace may follow, as json.Unmarshal.
   */
  trailing?: 'ignore' | 'error';
  maxDepth?: number;
  /** Report where the value of this key of the top-level object starts and ends (its last occurrence). */
  spanOfKey?: string;
  /**
   * Names (lower case, at most 31 characters) to look out for among the keys of every object: the result says
   * whether some key, lower-cased, is one of them.
   */
  watchKeys?: ReadonlySet<string>;
}

export interface ReadResult {
  value: unknown;
  /** Character offsets [start, end) of the document's value, without surrounding whitespace or trailing text. */
  valueSpan: [number, number];
  /** Character offsets [start, end) of the `spanOfKey` member's value, when present. */
  span?: [number, number];
  /** Whether any number was kept as NumberText (callers that check number ranges need only look then). */
  keptNumberText: boolean;
  /** With watchKeys: whether some object key, lower-cased, is one of them. */
  watchedKey: boolean;
  /** With watchKeys: the members whose key is watched, in text order. */
  watchedMembers?: WatchedMember[];
}

/** A member whose key is watched: character offsets [start, end) from its key's opening quote to its value's end. */
export interface WatchedMember {
  start: number;
  end: number;
  /** From the document's value down: object keys and array indices, the member's own key last. */
  path: (string | number)[];
}

/** Reads one JSON document; throws JsonSyntaxError with Go's message. */
export function readJson(text: string, options: ReadOptions = {}): unknown {
  if (options.spanOfKey === undefined && options.trailing !== 'ignore') {
    const parsed = nativeParse(text, options.maxDepth ?? MAX_JSON_DEPTH);
    if (parsed !== NOT_NATIVE) return parsed;
  }
  return readJsonDocument(text, options).value;
}

const NOT_NATIVE = Symbol('not native');

/**
 * JSON.parse where it gives exactly what the reader would: every number prints back as written, no \u escape
 * of a surrogate (Go turns a lone one into U+FFFD), nesting within the limit, valid JSON. One scan checks that
 * without building anything; anything else goes to the reader. Besides being faster, JSON.parse's values
 * are compact: the reader's strings are slices that keep the whole source text alive, and its objects grow
 * key by key (for 100 MB of bundle data, about 3× the heap of JSON.parse's).
 */
function nativeParse(text: string, maxDepth: number): unknown {
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          i++;
          if (text.charCodeAt(i) === 0x75 /* u */ && (text.charCodeAt(i + 1) | 0x20) === 0x64 /* d */ && isSurrogateDigit(text.charCodeAt(i + 2))) return NOT_NATIVE;
        }
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return NOT_NATIVE;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) i++;
      const number = text.slice(start, i + 1);
      if (!printsBack(number)) return NOT_NATIVE;
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The reader says what is wrong, in Go's words.
    return NOT_NATIVE;
  }
}

/** 8-9, a-f (either case): the third hex digit of \uD800-\uDFFF. */
function isSurrogateDigit(c: number): boolean {
  return c === 0x38 || c === 0x39 || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

export function readJsonDocument(text: string, options: ReadOptions = {}): ReadResult {
  const reader = new Reader(text, options.maxDepth ?? MAX_JSON_DEPTH, options.spanOfKey, options.watchKeys);
  const value = reader.document(options.trailing ?? 'error');
  const result: ReadResult = { value, valueSpan: reader.valueSpan, keptNumberText: reader.keptNumberText, watchedKey: reader.watchedMembers !== undefined };
  if (reader.span) result.span = reader.span;
  if (reader.watchedMembers) result.watchedMembers = reader.watchedMembers;
  return result;
}

interface Frame {
  array: unknown[] | null;
  object: Record<string, unknown> | null;
  key: string;
  /** Where the current member's value starts (top-level object only). */
  start: number;
  /** The current member's entry in watchedMembers when its key is watched, else -1. */
  watched: number;
}

const numberPattern = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Go's quoteChar: how its JSON errors show the offending character. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const quoted = JSON.stringify(c);
  return `'${quoted.slice(1, -1)}'`;
}

/** Bit n set: some watched name has n characters (a key of another length is never compared). */
export function nameLengths(names: ReadonlySet<string> | undefined): number {
  if (names === lastWatched) return lastLengths;
  let lengths = 0;
  for (const name of names ?? []) {
    if (name.length > 31 || name !== name.toLowerCase()) throw new RangeError(`watched key ${JSON.stringify(name)}: lower case, up to 31 characters`);
    lengths |= 1 << name.length;
  }
  lastWatched = names;
  lastLengths = lengths;
  return lengths;
}

/**
 * Whether `key`, lower-cased, is one of `names` (`lengths`: their nameLengths). Lower-casing keeps a string's length,
 * but for U+0130, which gains a combining mark: a name is never reached so.
 */
export function isWatchedKey(key: string, names: ReadonlySet<string> | undefined, lengths: number): boolean {
  return key.length < 32 && ((lengths >>> key.length) & 1) === 1 && names !== undefined && names.has(key.toLowerCase());
}

/** A server reads every request with the same names: theirs are worked out once. */
let lastWatched: ReadonlySet<string> | undefined;
let lastLengths = 0;

class Reader {
  private pos = 0;
  span: [number, number] | undefined;
  private readonly watchLengths: number;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly spanKey: string | undefined,
    private readonly watchKeys: ReadonlySet<string> | undefined,
  ) {
    this.watchLengths = nameLengths(watchKeys);
  }

  valueSpan: [number, number] = [0, 0];
  keptNumberText = false;
  watchedMembers: WatchedMember[] | undefined;

  document(trailing: 'ignore' | 'error'): unknown {
    this.skipSpace();
    // Nothing at all: Go's Decoder says io.EOF, json.Unmarshal "unexpected end of JSON input".
    if (this.pos >= this.text.length) throw new JsonSyntaxError(trailing === 'ignore' ? 'EOF' : 'unexpected end of JSON input', this.pos);
    const start = this.pos;
    const value = this.value('looking for beginning of value');
    this.valueSpan = [start, this.pos];
    if (trailing === 'error') {
      this.skipSpace();
      if (this.pos < this.text.length) this.fail('after top-level value');
    }
    return value;
  }

  private fail(context: string): never {
    if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected EOF', this.pos);
    throw new JsonSyntaxError(`invalid character ${quoteChar(String.fromCodePoint(this.text.codePointAt(this.pos)!))} ${context}`, this.pos);
  }

  private skipSpace(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++this.pos);
  }

  /**
   * One value, nested containers included, with an explicit stack instead of recursion: 10,000 levels are
   * legal and must not depend on the JS stack.
   */
  private value(context: string): unknown {
    const stack: Frame[] = [];
    let value: unknown;
    for (;;) {
      // Read a scalar, or open a container and read its first member.
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (stack.length + 1 > this.maxDepth) throw new JsonSyntaxError(`invalid character ${quoteChar(this.text[this.pos]!)} exceeded max depth`, this.pos);
        this.pos++;
        this.skipSpace();
        if (c === 0x7b) {
          const frame: Frame = { array: null, object: {}, key: '', start: 0, watched: -1 };
          if (this.text.charCodeAt(this.pos) === 0x7d /* } */) {
            this.pos++;
            value = frame.object;
          } else {
            this.memberKey(frame, stack);
            stack.push(frame);
            continue;
          }
        } else if (this.text.charCodeAt(this.pos) === 0x5d /* ] */) {
          this.pos++;
          value = [];
        } else {
          stack.push({ array: [], object: null, key: '', start: 0, watched: -1 });
          context = 'looking for beginning of value';
          continue;
        }
      } else if (c === 0x22 /* " */) value = this.string();
      else if (c === 0x74 /* t */) value = this.literal('true', true);
      else if (c === 0x66 /* f */) value = this.literal('false', false);
      else if (c === 0x6e /* n */) value = this.literal('null', null);
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) value = this.number();
      else this.fail(context);
      // Hand the value to the enclosing containers, closing each one that ends here.
      for (;;) {
        const frame = stack[stack.length - 1];
        if (frame === undefined) return value;
        const end = this.pos;
        this.skipSpace();
        const next = this.text.charCodeAt(this.pos);
        if (frame.array) {
          frame.array.push(value);
          if (next === 0x2c /* , */) {
            this.pos++;
            this.skipSpace();
            break;
          }
          if (next !== 0x5d /* ] */) this.fail('after array element');
          this.pos++;
          value = frame.array;
        } else {
          const object = frame.object!;
          if (stack.length === 1 && frame.key === this.spanKey) this.span = [frame.start, end];
          if (frame.watched >= 0) this.watchedMembers![frame.watched].end = end;
          if (frame.key === '__proto__') Object.defineProperty(object, frame.key, { value, enumerable: true, writable: true, configurable: true });
          else object[frame.key] = value;
          if (next === 0x2c) {
            this.pos++;
            this.skipSpace();
            this.memberKey(frame, stack);
            break;
          }
          if (next !== 0x7d /* } */) this.fail('after object key:value pair');
          this.pos++;
          value = object;
        }
        stack.pop();
      }
      context = 'looking for beginning of value';
    }
  }

  /** Reads `"key":` of `frame`'s next member (`frame` on top of `stack` or about to be) and stops at the member's value. */
  private memberKey(frame: Frame, stack: Frame[]): void {
    if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('looking for beginning of object key string');
    const start = this.pos;
    const key = (frame.key = this.string());
    frame.watched = -1;
    if (isWatchedKey(key, this.watchKeys, this.watchLengths)) frame.watched = this.watch(start, frame, stack);
    const topLevel = stack.length === 0 || (stack.length === 1 && stack[0] === frame);
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) !== 0x3a /* : */) this.fail('after object key');
    this.pos++;
    this.skipSpace();
    if (topLevel) frame.start = this.pos;
  }

  /** Records the member of `frame` whose key starts at `start`; its end is filled in when its value is read. */
  private watch(start: number, frame: Frame, stack: Frame[]): number {
    const path: (string | number)[] = [];
    const ancestors = stack[stack.length - 1] === frame ? stack.length - 1 : stack.length;
    for (let i = 0; i < ancestors; i++) path.push(stack[i].array ? stack[i].array!.length : stack[i].key);
    path.push(frame.key);
    this.watchedMembers ??= [];
    return this.watchedMembers.push({ start, end: start, path }) - 1;
  }

  private literal<T>(word: string, value: T): T {
    for (let i = 1; i < word.length; i++) {
      this.pos++;
      if (this.text[this.pos] !== word[i]) this.fail(`in literal ${word} (expecting ${quoteChar(word[i]!)})`);
    }
    this.pos++;
    return value;
  }

  private number(): number | NumberText {
    numberPattern.lastIndex = this.pos;
    const m = numberPattern.exec(this.text);
    if (!m) {
      this.pos++;
      return this.fail('in numeric literal');
    }
    const end = this.pos + m[0].length;
    const next = this.text.charCodeAt(end);
    if (next === 0x2e /* . */ || next === 0x65 || next === 0x45) {
      // "1." or "1e" with no digits after: Go names the part it was reading.
      this.pos = end + 1;
      if (next === 0x2e) this.fail('after decimal point in numeric literal');
      const sign = this.text.charCodeAt(this.pos);
      if (sign === 0x2b || sign === 0x2d) this.pos++;
      this.fail('in exponent of numeric literal');
    }
    this.pos = end;
    const n = numberFromText(m[0]);
    if (n instanceof NumberText) this.keptNumberText = true;
    return n;
  }

  private string(): string {
    const t = this.text;
    const start = this.pos + 1;
    let i = start;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return t.slice(start, i);
      }
      if (c === 0x5c || c < 0x20 || Number.isNaN(c)) break;
      i++;
    }
    this.pos = i;
    return this.escapedString(t.slice(start, i));
  }

  /** The rest of a string that has escapes; lone surrogates become U+FFFD as in Go. */
  private escapedString(prefix: string): string {
    const t = this.text;
    let out = prefix;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('in string literal');
      if (c === 0x22) {
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('in string literal');
      if (c !== 0x5c) {
        out += t[this.pos++];
        continue;
      }
      this.pos++;
      const e = t[this.pos];
      const simple = e === undefined ? undefined : ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        this.pos++;
        continue;
      }
      if (e !== 'u') this.fail('in string escape code');
      this.pos++;
      const unit = this.hex4();
      if (unit >= 0xd800 && unit < 0xdc00) {
        if (t.startsWith('\\u', this.pos)) {
          const save = this.pos;
          this.pos += 2;
          const low = this.hex4();
          if (low >= 0xdc00 && low < 0xe000) {
            out += String.fromCharCode(unit, low);
            continue;
          }
          this.pos = save;
        }
        out += '\ufffd';
      } else if (unit >= 0xdc00 && unit < 0xe000) {
        out += '\ufffd';
      } else out += String.fromCharCode(unit);
    }
  }

  private hex4(): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const d = parseInt(this.text[this.pos] ?? '', 16);
      if (Number.isNaN(d)) this.fail('in \\u hexadecimal character escape');
      v = v * 16 + d;
      this.pos++;
    }
    return v;
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Texts up to this many bytes are read in one go by readJsonYielding. */
const YIELD_PIECE = 1 << 20;

/**
 * readJson for large texts read while a server is answering requests (bundle data): objects longer than a
 * piece are read member by member, and the event loop gets a turn after each piece, so 100 MB of JSON does
 * not hold up decisions for the whole read. The value, and any error, is readJson's: a text the piecewise
 * reading finds anything odd in is read again whole by readJson. The text is read from its UTF-8 bytes, each
 * piece decoded on its own (JSON's delimiters are ASCII, never part of a longer character): decoded whole, a
 * 100 MB text took as much V8 heap for as long as the read lasted, and V8, sizing its heap from what is live,
 * let four times that fill with the pieces' garbage before collecting it.
 */
export async function readJsonYielding(text: string | Uint8Array, maxDepth = MAX_JSON_DEPTH, onPiece?: PieceHook): Promise<unknown> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  let start = 0;
  let end = bytes.byteLength;
  while (start < end && isSpace(bytes[start]!)) start++;
  while (end > start && isSpace(bytes[end - 1]!)) end--;
  if (end - start <= YIELD_PIECE) return readJson(bytes.toString('utf8'), { maxDepth });
  try {
    return (await readSpan(bytes, start, end, 0, maxDepth, { unyielded: 0 }, onPiece ?? ((value) => value))).value;
  } catch {
    return readJson(bytes.toString('utf8'), { maxDepth });
  }
}

/**
 * What readJsonYielding does with each piece it read whole (a value of at most a piece's text, or a scalar),
 * `enclosing` containers deep, before reading on: the value returned takes its place. The pieces of a large
 * document can so be turned into something smaller (packed, src/json/packed.ts) before the next is read,
 * instead of the whole document being held as objects first.
 */
export type PieceHook = (value: unknown, enclosing: number) => unknown;

/**
 * The value at bytes [start, end) inside `enclosing` containers; `progress` counts the bytes read since the
 * last yield. The value comes boxed: a promise resolved with an object reads the object's `then`, which would
 * open a packed value (inflate and parse it) for nothing.
 */
async function readSpan(bytes: Buffer, start: number, end: number, enclosing: number, maxDepth: number, progress: { unyielded: number }, onPiece: PieceHook): Promise<{ value: unknown }> {
  if (end - start <= YIELD_PIECE || bytes[start] !== 0x7b) {
    const value = onPiece(readJson(bytes.toString('utf8', start, end), { maxDepth: maxDepth - enclosing }), enclosing);
    progress.unyielded += end - start;
    if (progress.unyielded >= YIELD_PIECE) {
      progress.unyielded = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { value };
  }
  if (enclosing + 1 > maxDepth) throw new Error('too deep');
  const object: Record<string, unknown> = {};
  let i = skipSpaces(bytes, start + 1, end);
  if (bytes[i] === 0x7d && skipSpaces(bytes, i + 1, end) === end) return { value: object };
  for (;;) {
    if (bytes[i] !== 0x22) throw new Error('key expected');
    const keyEnd = skipValue(bytes, i, end);
    const key = readJson(bytes.toString('utf8', i, keyEnd)) as string;
    i = skipSpaces(bytes, keyEnd, end);
    if (bytes[i] !== 0x3a) throw new Error('colon expected');
    const valueStart = skipSpaces(bytes, i + 1, end);
    const valueEnd = skipValue(bytes, valueStart, end);
    const { value } = await readSpan(bytes, valueStart, valueEnd, enclosing + 1, maxDepth, progress, onPiece);
    if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    else object[key] = value;
    i = skipSpaces(bytes, valueEnd, end);
    const c = bytes[i];
    if (c === 0x7d && skipSpaces(bytes, i + 1, end) === end) return { value: object };
    if (c !== 0x2c) throw new Error('comma expected');
    i = skipSpaces(bytes, i + 1, end);
  }
}

/** JSON's whitespace: space, line feed, carriage return, tab. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The first position from `i` (before `end`) that is not JSON whitespace. */
function skipSpaces(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && isSpace(bytes[i]!)) i++;
  return i;
}

/** Where the value starting at `i` ends: strings and containers (with the strings in them) matched, scalars to the next delimiter. */
function skipValue(bytes: Uint8Array, i: number, end: number): number {
  let depth = 0;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0x22) {
      for (i++; i < end && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
      if (depth === 0) return i + 1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === 0x2c || isSpace(c))) {
      return i;
    }
  }
  return end;
}
