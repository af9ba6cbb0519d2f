// The character diff `verdict fmt -d` prints, byte for byte as `opa fmt -d` prints it. OPA diffs with the
// diff-match-patch algorithm (common prefix and suffix, containment, half-match, Myers' bisection from both ends,
// then a merge pass) over code points, and prints unchanged text as is, removed text in red and added text in
// green, each line of a change coloured on its own. Where an edit could sit at several places among equal
// characters, only the same algorithm chooses the same place, so this is that algorithm, written anew.
type Kind = 'equal' | 'delete' | 'insert';
type Op = { kind: Kind; text: string[] };

const same = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);

function prefixLength(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function suffixLength(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

function indexOf(text: string[], pattern: string[], from: number): number {
  for (let i = from; i + pattern.length <= text.length; i++) {
    let j = 0;
    while (j < pattern.length && text[i + j] === pattern[j]) j++;
    if (j === pattern.length) return i;
  }
  return -1;
}

function diff(a: string[], b: string[]): Op[] {
  if (same(a, b)) return a.length > 0 ? [{ kind: 'equal', text: a }] : [];
  const pre = prefixLength(a, b);
  const head = a.slice(0, pre);
  a = a.slice(pre);
  b = b.slice(pre);
  const suf = suffixLength(a, b);
  const tail = a.slice(a.length - suf);
  a = a.slice(0, a.length - suf);
  b = b.slice(0, b.length - suf);
  const ops = compute(a, b);
  if (head.length > 0) ops.unshift({ kind: 'equal', text: head });
  if (tail.length > 0) ops.push({ kind: 'equal', text: tail });
  return merge(ops);
}

function compute(a: string[], b: string[]): Op[] {
  if (a.length === 0) return [{ kind: 'insert', text: b }];
  if (b.length === 0) return [{ kind: 'delete', text: a }];
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  const at = indexOf(long, short, 0);
  if (at !== -1) {
    const kind: Kind = a.length > b.length ? 'delete' : 'insert';
    return [
      { kind, text: long.slice(0, at) },
      { kind: 'equal', text: short },
      { kind, text: long.slice(at + short.length) },
    ];
  }
  if (short.length === 1) return [{ kind: 'delete', text: a }, { kind: 'insert', text: b }];
  const half = halfMatch(a, b);
  if (half) {
    const [a1, a2, b1, b2, common] = half;
    return [...diff(a1, b1), { kind: 'equal', text: common }, ...diff(a2, b2)];
  }
  return bisect(a, b);
}

type Half = [string[], string[], string[], string[], string[]];

/** A common run at least half as long as the longer text splits the problem in two. */
function halfMatch(a: string[], b: string[]): Half | undefined {
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  if (long.length < 4 || short.length * 2 < long.length) return undefined;
  const one = halfMatchAt(long, short, Math.ceil(long.length / 4));
  const two = halfMatchAt(long, short, Math.ceil(long.length / 2));
  if (!one && !two) return undefined;
  const hm = !two ? one! : !one ? two : one[4].length > two[4].length ? one : two;
  return a.length > b.length ? hm : [hm[2], hm[3], hm[0], hm[1], hm[4]];
}

function halfMatchAt(long: string[], short: string[], i: number): Half | undefined {
  const seed = long.slice(i, i + Math.floor(long.length / 4));
  let best: Half | undefined;
  let bestLength = 0;
  for (let j = indexOf(short, seed, 0); j !== -1; j = indexOf(short, seed, j + 1)) {
    const pre = prefixLength(long.slice(i), short.slice(j));
    const suf = suffixLength(long.slice(0, i), short.slice(0, j));
    if (bestLength < pre + suf) {
      bestLength = pre + suf;
      best = [long.slice(0, i - suf), long.slice(i + pre), short.slice(0, j - suf), short.slice(j + pre), short.slice(j - suf, j + pre)];
    }
  }
  return best && bestLength * 2 >= long.length ? best : undefined;
}

/** Myers' middle snake, searched from both ends; the texts are split there and each half diffed on its own. */
function bisect(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const maxD = Math.ceil((n + m) / 2);
  const offset = maxD;
  const size = 2 * maxD;
  const v1 = new Int32Array(size).fill(-1);
  const v2 = new Int32Array(size).fill(-1);
  v1[offset + 1] = 0;
  v2[offset + 1] = 0;
  const delta = n - m;
  const front = delta % 2 !== 0;
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1off = offset + k1;
      let x1 = k1 === -d || (k1 !== d && v1[k1off - 1] < v1[k1off + 1]) ? v1[k1off + 1] : v1[k1off - 1] + 1;
      let y1 = x1 - k1;
      while (x1 < n && y1 < m && a[x1] === b[y1]) {
        x1++;
        y1++;
      }
      v1[k1off] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const k2off = offset + delta - k1;
        if (k2off >= 0 && k2off < size && v2[k2off] !== -1 && x1 >= n - v2[k2off]) return split(a, b, x1, y1);
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2off = offset + k2;
      let x2 = k2 === -d || (k2 !== d && v2[k2off - 1] < v2[k2off + 1]) ? v2[k2off + 1] : v2[k2off - 1] + 1;
      let y2 = x2 - k2;
      while (x2 < n && y2 < m && a[n - x2 - 1] === b[m - y2 - 1]) {
        x2++;
        y2++;
      }
      v2[k2off] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const k1off = offset + delta - k2;
        if (k1off >= 0 && k1off < size && v1[k1off] !== -1) {
          const x1 = v1[k1off];
          if (x1 >= n - x2) return split(a, b, x1, offset + x1 - k1off);
        }
      }
    }
  }
  return [{ kind: 'delete', text: a }, { kind: 'insert', text: b }];
}

function split(a: string[], b: string[], x: number, y: number): Op[] {
  return [...diff(a.slice(0, x), b.slice(0, y)), ...diff(a.slice(x), b.slice(y))];
}

/** Joins neighbouring edits, factors their common prefix and suffix into the equalities around them, and shifts a
 * lone edit sideways where that removes an equality; repeated until nothing moves. */
function merge(ops: Op[]): Op[] {
  ops.push({ kind: 'equal', text: [] });
  let pointer = 0;
  let deletes = 0;
  let inserts = 0;
  let deleted: string[] = [];
  let inserted: string[] = [];
  while (pointer < ops.length) {
    const op = ops[pointer];
    if (op.kind === 'insert') {
      inserts++;
      inserted = inserted.concat(op.text);
      pointer++;
      continue;
    }
    if (op.kind === 'delete') {
      deletes++;
      deleted = deleted.concat(op.text);
      pointer++;
      continue;
    }
    if (deletes + inserts > 1) {
      if (deletes !== 0 && inserts !== 0) {
        const pre = prefixLength(inserted, deleted);
        if (pre !== 0) {
          const before = pointer - deletes - inserts - 1;
          if (before >= 0 && ops[before].kind === 'equal') ops[before].text = ops[before].text.concat(inserted.slice(0, pre));
          else {
            ops.splice(0, 0, { kind: 'equal', text: inserted.slice(0, pre) });
            pointer++;
          }
          inserted = inserted.slice(pre);
          deleted = deleted.slice(pre);
        }
        const suf = suffixLength(inserted, deleted);
        if (suf !== 0) {
          ops[pointer].text = inserted.slice(inserted.length - suf).concat(ops[pointer].text);
          inserted = inserted.slice(0, inserted.length - suf);
          deleted = deleted.slice(0, deleted.length - suf);
        }
      }
      pointer -= deletes + inserts;
      ops.splice(pointer, deletes + inserts);
      if (deleted.length > 0) ops.splice(pointer++, 0, { kind: 'delete', text: deleted });
      if (inserted.length > 0) ops.splice(pointer++, 0, { kind: 'insert', text: inserted });
      pointer++;
    } else if (pointer !== 0 && ops[pointer - 1].kind === 'equal') {
      ops[pointer - 1].text = ops[pointer - 1].text.concat(op.text);
      ops.splice(pointer, 1);
    } else pointer++;
    deletes = 0;
    inserts = 0;
    deleted = [];
    inserted = [];
  }
  if (ops[ops.length - 1].text.length === 0) ops.pop();

  let changed = false;
  for (pointer = 1; pointer < ops.length - 1; pointer++) {
    const [prev, op, next] = [ops[pointer - 1], ops[pointer], ops[pointer + 1]];
    if (prev.kind !== 'equal' || next.kind !== 'equal') continue;
    if (op.text.length >= prev.text.length && same(op.text.slice(op.text.length - prev.text.length), prev.text)) {
      op.text = prev.text.concat(op.text.slice(0, op.text.length - prev.text.length));
      next.text = prev.text.concat(next.text);
      ops.splice(pointer - 1, 1);
      changed = true;
    } else if (op.text.length >= next.text.length && same(op.text.slice(0, next.text.length), next.text)) {
      prev.text = prev.text.concat(next.text);
      op.text = op.text.slice(next.text.length).concat(next.text);
      ops.splice(pointer + 1, 1);
      changed = true;
    }
  }
  return changed ? merge(ops) : ops;
}

const COLOUR = { delete: '\x1b[31m', insert: '\x1b[32m' } as const;
const RESET = '\x1b[0m';

/** The edits from `a` to `b`, as (kind, text) pairs. */
export function charDiff(a: string, b: string): { kind: Kind; text: string }[] {
  return diff(Array.from(a), Array.from(b)).map((op) => ({ kind: op.kind, text: op.text.join('') }));
}

export function prettyDiff(a: string, b: string): string {
  return charDiff(a, b)
    .map((op) => (op.kind === 'equal' ? op.text : op.text.split('\n').map((line) => `${COLOUR[op.kind as keyof typeof COLOUR]}${line}${RESET}`).join('\n')))
    .join('');
}
