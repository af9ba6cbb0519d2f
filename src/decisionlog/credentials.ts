// Credentials never reach the decision log unless the operator asks (decision_logs.store.mask_credentials:
// false). In every `headers` object of an event's input, result and nd_builtin_cache — Envoy's
// attributes.request.http.headers, the callouts' same shape, an application's input.request.headers, headers a
// policy sends upstream, http.send requests in the builtin cache — the credential headers are erased, names
// compared without case. Each removal is recorded in `erased` as OPA's mask policy records one, so tools read it
// as they read OPA's. The decision itself was made on the full input; only what is stored changes.
//
// The erasure works on the JSON text about to be stored (the input's text as the request carried it, the
// others as written), cutting the credential members out of it: nothing is copied or re-serialised, which
// costs a fraction of walking and rewriting the parsed value.
import { pathEscape } from './mask.js';
import { isSpace, isWatchedKey, nameLengths, type WatchedMember } from '../json/reader.js';

/** Header names whose values are credentials (lower case). */
export const credentialHeaders: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/**
 * False when JSON text cannot hold a credential header: no credential header name in it, and no \u escape
 * that could spell one. Far cheaper than scanning the text's structure, and most texts pass it.
 */
export function mayHoldCredentials(json: string): boolean {
  // Two plain searches run about twice as fast as one alternation.
  return authorizationWord.test(json) || cookieWord.test(json) || json.includes('\\u') || json.includes(kelvinSign);
}

/**
 * The one character outside ASCII that the erasure's lower-casing turns into a letter of a credential name (k):
 * a case-insensitive search for the words does not find it, so its presence alone sends a text to the erasure.
 */
const kelvinSign = '\u212A';

const authorizationWord = /authorization/i;
const cookieWord = /cookie/i;

/**
 * mayHoldCredentials for UTF-8 text as bytes (a request's input), without decoding it to a string first: the
 * words' rarest letters (z of authorization, k of cookie, in either case) and backslashes are found with native
 * searches and only there is the word around them compared. Bytes of multi-byte characters are never ASCII
 * letters, so this answers as mayHoldCredentials does over the decoded text.
 */
export function bytesMayHoldCredentials(bytes: Buffer): boolean {
  return (
    wordAround(bytes, 0x7a, authorizationBytes, 7) ||
    wordAround(bytes, 0x5a, authorizationBytes, 7) ||
    wordAround(bytes, 0x6b, cookieBytes, 3) ||
    wordAround(bytes, 0x4b, cookieBytes, 3) ||
    bytes.includes(backslashU) ||
    bytes.includes(kelvinSignBytes)
  );
}

const authorizationBytes = Buffer.from('authorization', 'latin1');
const cookieBytes = Buffer.from('cookie', 'latin1');
const backslashU = Buffer.from('\\u', 'latin1');
const kelvinSignBytes = Buffer.from(kelvinSign, 'utf8');

/** Whether `word` (lower case), its byte `at` being `letter` in some case, appears around an occurrence of `letter`, in any case. */
function wordAround(bytes: Buffer, letter: number, word: Buffer, at: number): boolean {
  for (let found = bytes.indexOf(letter, at); found >= 0; found = bytes.indexOf(letter, found + 1)) {
    const start = found - at;
    if (start + word.length > bytes.length) return false;
    let i = 0;
    // ASCII letters only: setting bit 0x20 lowers a letter and leaves the other bytes of the word unequal.
    while (i < word.length && (bytes[start + i] | 0x20) === word[i]) i++;
    if (i === word.length) return true;
  }
  return false;
}

/** One object or array open in the text being searched. */
interface Frame {
  array: boolean;
  parent?: Frame;
  /** Objects: the next string is a key. */
  expectKey: boolean;
  /** Objects: the current member's key; arrays: the current element's index. */
  key: string;
  index: number;
  /** Objects: the current member's place in the members found when its key is a credential header name, else -1. */
  found: number;
}

/**
 * The members of `json` (valid JSON text) whose key is a credential header name, in any case, wherever they stand,
 * as the JSON reader locates them while parsing (ReadOptions.watchKeys with credentialHeaders): in text order,
 * character offsets, keys read through their escapes, paths from the text's value. Undefined when there is none.
 * A search of the text's structure that builds no value.
 */
export function credentialMembersIn(json: string): WatchedMember[] | undefined {
  let members: WatchedMember[] | undefined;
  let top: Frame | undefined;
  const n = json.length;
  let i = 0;
  // A value ended just before `end` in the container `top`: a member found there ends with it.
  const valueEnded = (end: number) => {
    if (!top || top.array || top.found < 0) return;
    members![top.found].end = end;
    top.found = -1;
  };
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(json, i);
      if (top && !top.array && top.expectKey) {
        const raw = json.slice(i + 1, end);
        const key = (top.key = raw.includes('\\') ? (JSON.parse(json.slice(i, end + 1)) as string) : raw);
        top.expectKey = false;
        if (isWatchedKey(key, credentialHeaders, credentialNameLengths)) top.found = (members ??= []).push({ start: i, end: i, path: pathTo(top) }) - 1;
      } else valueEnded(end + 1);
      i = end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      top = { array: c === 0x5b, parent: top, expectKey: true, key: '', index: 0, found: -1 };
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      top = top?.parent;
      i++;
      valueEnded(i);
    } else if (c === 0x2c) {
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === 0x3a || isSpace(c)) {
      i++;
    } else {
      // A number, true, false or null: up to the next delimiter.
      while (i < n && !delimiter(json.charCodeAt(i))) i++;
      valueEnded(i);
    }
  }
  return members;
}

/** The names are compared as the reader compares them (one test, so both find the same members), most keys by their length alone. */
const credentialNameLengths = nameLengths(credentialHeaders);

/** The keys and indices from the text's value down to the current member of `frame`, its key last. */
function pathTo(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f; f = f.parent) path.push(f.array ? f.index : f.key);
  return path.reverse();
}

/**
 * `json` (valid JSON text of the event part `part`: "input", "result" or "nd_builtin_cache") without the
 * credential members of its headers objects, and the JSON pointers of what was removed; undefined when nothing
 * was. Pointers in `keep` (those a mask policy upserted) are left as they are.
 */
export function eraseCredentialsInJson(json: string, part: string, keep?: ReadonlySet<string>): { json: string; erased: string[] } | undefined {
  const members = credentialMembersIn(json);
  const cut = members && locatedCredentialCuts(json, members, part, keep);
  if (cut === undefined) return undefined;
  const { cuts } = cut;
  let out = '';
  let from = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    out += json.slice(from, cuts[k]);
    from = cuts[k + 1];
  }
  return { json: out + json.slice(from), erased: cut.erased };
}

/**
 * The credential erasure's one rule: which of `text`'s located members go and which comma goes with each. `members`
 * are the members of `text` with a credential header name as key (all of them, in text order, paths from the text's
 * value), as the JSON reader locates them while parsing a body or credentialMembersIn finds them; their offsets
 * index `text`, characters of a string or bytes of UTF-8. The members of headers objects (the value of a key named
 * "headers", any case) are cut, each with the comma that separated it from a kept neighbour; one inside a member
 * being cut goes with it, with no pointer of its own; one whose pointer is in `keep` stays. Returns the cuts, as
 * [start, end) pairs in order, and the pointers of the members cut, each once; undefined when nothing is cut.
 */
export function locatedCredentialCuts(text: string | Uint8Array, members: readonly WatchedMember[], part: string, keep?: ReadonlySet<string>): { cuts: number[]; erased: string[] } | undefined {
  let cuts: number[] | undefined;
  let erased: string[] | undefined;
  let cutUntil = -1;
  for (const { start, end, path } of members) {
    // A member inside one being cut goes with it.
    if (start < cutUntil) continue;
    const container = path[path.length - 2];
    if (typeof container !== 'string' || container.toLowerCase() !== 'headers') continue;
    const at = pointerOf(part, path);
    if (keep?.has(at)) continue;
    cuts ??= [];
    erased ??= [];
    if (!erased.includes(at)) erased.push(at);
    cuts.push(start, end);
    cutUntil = end;
    const next = nonSpace(text, end, 1);
    if (codeAt(text, next) === 0x2c) cuts.push(next, next + 1);
    else {
      // The object's last member: the comma after the last member kept goes, if there is one.
      let comma = nonSpace(text, start - 1, -1);
      while (codeAt(text, comma) === 0x2c) {
        const cutBefore = cutEndingAt(cuts, nonSpace(text, comma - 1, -1) + 1);
        if (cutBefore < 0) {
          cuts.push(comma, comma + 1);
          break;
        }
        comma = nonSpace(text, cutBefore - 1, -1);
      }
    }
  }
  if (cuts === undefined || erased === undefined) return undefined;
  cuts.sort((a, b) => a - b);
  return { cuts, erased };
}

/** The JSON pointer of the member at `path` of `part`: a server's requests carry their headers at the same few places, whose pointers are kept. */
function pointerOf(part: string, path: readonly (string | number)[]): string {
  for (const recent of recentPointers) if (recent.part === part && samePath(recent.path, path)) return recent.pointer;
  const pointer = '/' + part + '/' + path.map((segment) => pathEscape(String(segment))).join('/');
  if (recentPointers.length === 8) recentPointers.shift();
  recentPointers.push({ part, path, pointer });
  return pointer;
}

const recentPointers: { part: string; path: readonly (string | number)[]; pointer: string }[] = [];

function samePath(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The start of the cut in `cuts` that ends at `end`, or -1. */
function cutEndingAt(cuts: number[], end: number): number {
  for (let k = 0; k < cuts.length; k += 2) if (cuts[k + 1] === end) return cuts[k];
  return -1;
}

/** The first position from `at`, stepping by `step` (1 or -1), that is not JSON whitespace. */
function nonSpace(text: string | Uint8Array, at: number, step: 1 | -1): number {
  while (isSpace(codeAt(text, at))) at += step;
  return at;
}

/** The code at `at` of a text given as characters or as UTF-8 bytes (the same for the ASCII the rule looks at); NaN or undefined beyond it. */
function codeAt(text: string | Uint8Array, at: number): number {
  return typeof text === 'string' ? text.charCodeAt(at) : text[at]!;
}

function delimiter(c: number): boolean {
  return c === 0x2c || c === 0x7d || c === 0x5d || isSpace(c);
}

/** The index of the quote closing the string that opens at `start`. */
function stringEnd(json: string, start: number): number {
  let j = json.indexOf('"', start + 1);
  for (;;) {
    if (j < 0) throw new SyntaxError('unterminated string in JSON text');
    let backslashes = 0;
    while (json.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
    j = json.indexOf('"', j + 1);
  }
}
