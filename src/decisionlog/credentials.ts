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
import { isSpace, skipSpaces, type WatchedMember } from '../json/reader.js';

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

/** One object or array open in the text being scanned. */
interface Frame {
  array: boolean;
  /** The key (or array index) this container has in its parent; the part's name for the top. */
  ownKey: string;
  parent?: Frame;
  /** An object that is the value of a key named "headers" (any case), not inside a member being cut. */
  headers: boolean;
  /** Inside a member being cut: nothing in it is cut or listed on its own, it goes with the member. */
  insideCut: boolean;
  /** Objects: the next string is a key. */
  expectKey: boolean;
  /** Objects: the current member's key; arrays: the current element's index. */
  key: string;
  index: number;
  /** Where the current member starts (its key's quote) when it is to be cut, else -1. */
  cutFrom: number;
  /** The member just ended was cut. */
  lastCut: boolean;
  /** The last comma left in place between members, or -1: a cut last member takes it with it. */
  keptComma: number;
}

/**
 * `json` (valid JSON text of the event part `part`: "input", "result" or "nd_builtin_cache") without the
 * credential members of its headers objects, and the JSON pointers of what was removed; undefined when nothing
 * was. Pointers in `keep` (those a mask policy upserted) are left as they are.
 */
export function eraseCredentialsInJson(json: string, part: string, keep?: ReadonlySet<string>): { json: string; erased: string[] } | undefined {
  const cuts: number[] = [];
  const erased: string[] = [];
  let top: Frame | undefined;
  const n = json.length;
  let i = 0;
  // A value ended just before `end` in the container `top`: a member marked for cutting is cut now.
  const valueEnded = (end: number) => {
    if (!top || top.array) return;
    top.lastCut = top.cutFrom >= 0;
    if (top.lastCut) cuts.push(top.cutFrom, end);
    top.cutFrom = -1;
  };
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(json, i);
      if (top && !top.array && top.expectKey) {
        const raw = json.slice(i + 1, end);
        top.key = raw.includes('\\') ? (JSON.parse(json.slice(i, end + 1)) as string) : raw;
        top.expectKey = false;
        if (top.headers && credentialHeaders.has(top.key.toLowerCase())) {
          const at = pointer(top, top.key);
          if (!keep?.has(at)) {
            top.cutFrom = i;
            if (!erased.includes(at)) erased.push(at);
          }
        }
      } else valueEnded(end + 1);
      i = end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      const ownKey = top ? (top.array ? String(top.index) : top.key) : part;
      const insideCut = top !== undefined && (top.insideCut || top.cutFrom >= 0);
      const headers = c === 0x7b && top !== undefined && !insideCut && !top.array && top.key.toLowerCase() === 'headers';
      top = { array: c === 0x5b, ownKey, parent: top, headers, insideCut, expectKey: true, key: '', index: 0, cutFrom: -1, lastCut: false, keptComma: -1 };
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      if (top && top.lastCut && top.keptComma >= 0) cuts.push(top.keptComma, top.keptComma + 1);
      top = top?.parent;
      i++;
      valueEnded(i);
    } else if (c === 0x2c) {
      if (top?.array) top.index++;
      else if (top) {
        top.expectKey = true;
        if (top.lastCut) cuts.push(i, i + 1);
        else top.keptComma = i;
      }
      i++;
    } else if (c === 0x3a || isSpace(c)) {
      i++;
    } else {
      // A number, true, false or null: up to the next delimiter.
      while (i < n && !delimiter(json.charCodeAt(i))) i++;
      valueEnded(i);
    }
  }
  if (erased.length === 0) return undefined;
  cuts.sort((a, b) => a - b);
  let out = '';
  let from = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    out += json.slice(from, cuts[k]);
    from = cuts[k + 1];
  }
  return { json: out + json.slice(from), erased };
}

/**
 * eraseCredentialsInJson's cuts, as [start, end) pairs in order, for UTF-8 `text` whose members with a credential
 * header name as key the JSON reader located while parsing it (`members`: all of them, offsets in bytes, paths from
 * the text's value): only the headers objects' members are cut, each with the comma that separated it from a kept
 * neighbour, and nothing is searched or decoded. Undefined when nothing is cut.
 */
export function locatedCredentialCuts(text: Uint8Array, members: readonly WatchedMember[], part: string, keep?: ReadonlySet<string>): { cuts: number[]; erased: string[] } | undefined {
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
    const next = skipSpaces(text, end, text.length);
    if (text[next] === 0x2c) cuts.push(next, next + 1);
    else {
      // The object's last member: the comma after the last member kept goes, if there is one.
      let comma = spaceBefore(text, start);
      while (text[comma] === 0x2c) {
        const cutBefore = cutEndingAt(cuts, spaceBefore(text, comma) + 1);
        if (cutBefore < 0) {
          cuts.push(comma, comma + 1);
          break;
        }
        comma = spaceBefore(text, cutBefore);
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

/** The last position before `at` that is not JSON whitespace. */
function spaceBefore(text: Uint8Array, at: number): number {
  at--;
  while (at >= 0 && isSpace(text[at]!)) at--;
  return at;
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

function pointer(frame: Frame, key: string): string {
  const path = [key];
  for (let f: Frame | undefined = frame; f; f = f.parent) path.push(f.ownKey);
  return '/' + path.reverse().map(pathEscape).join('/');
}
