// Objects and sets: entries in parallel key/value arrays, an open-addressing index once they grow
// past a few entries, and a sorted flag so iteration and printing follow OPA's key order without
// re-sorting collections that were built in order.
import { alloc, allocZeroed } from './heap';
import { T_OBJECT, T_STRING, tagOf, colLen, colKey, colVal, isInline, strLen, strPtr } from './value';
import { compare, compareBytes, equal, hash } from './compare';

const SMALL: i32 = 8;
const F_SORTED: i32 = 1;

/** Fills zeroed open-addressing slots (slotCap a power of two) with entry + 1 of each of the n keys. */
function fillSlots(keys: i32, n: i32, slots: i32, slotCap: i32): void {
  const mask = slotCap - 1;
  for (let i = 0; i < n; i++) {
    let s = <i32>hash(load<i32>(keys + (i << 2))) & mask;
    while (load<i32>(slots + (s << 2)) != 0) s = (s + 1) & mask;
    store<i32>(slots + (s << 2), i + 1);
  }
}

/** The entry of key through the slots fillSlots made, or -1. */
function probe(keys: i32, slots: i32, slotCap: i32, key: i32): i32 {
  const mask = slotCap - 1;
  let s = <i32>hash(key) & mask;
  while (true) {
    const e = load<i32>(slots + (s << 2));
    if (e == 0) return -1;
    if (keyEqual(load<i32>(keys + ((e - 1) << 2)), key)) return e - 1;
    s = (s + 1) & mask;
  }
  return -1;
}

/** The entry of key among n keys, looked at in turn, or -1. */
function scan(keys: i32, n: i32, key: i32): i32 {
  for (let i = 0; i < n; i++) if (keyEqual(load<i32>(keys + (i << 2)), key)) return i;
  return -1;
}

function buildIndex(v: i32, slotCap: i32): void {
  const slots = allocZeroed(slotCap << 2);
  fillSlots(load<i32>(v, 12), colLen(v), slots, slotCap);
  store<i32>(v, slots, 20);
  store<i32>(v, slotCap, 24);
}

/** Gives a collection filled without its index (entries copied in) the index its size needs. */
export function indexFor(v: i32): void {
  const n = colLen(v);
  if (n <= SMALL) return;
  let slotCap = 32;
  while (slotCap < n * 2) slotCap <<= 1;
  buildIndex(v, slotCap);
}

/** OPA's order of two keys, strings compared directly. */
@inline function keyOrder(a: i32, b: i32): i32 {
  if (tagOf(a) == T_STRING && tagOf(b) == T_STRING) return compareBytes(strPtr(a), strLen(a), strPtr(b), strLen(b));
  return compare(a, b);
}

/** Whether two keys are equal, strings compared directly. */
@inline function keyEqual(a: i32, b: i32): bool {
  if (a == b) return true;
  if (tagOf(a) == T_STRING && tagOf(b) == T_STRING) {
    const n = strLen(a);
    return n == strLen(b) && memory.compare(strPtr(a), strPtr(b), n) == 0;
  }
  return equal(a, b);
}

/** Index of key in a fixed object (F_INLINE): by its index where it has one, else by bisecting its sorted keys. */
function inlineFind(v: i32, key: i32): i32 {
  const n = colLen(v);
  const keys = load<i32>(v, 12);
  const index = load<i32>(v, 8);
  if (index != 0) return probe(keys, index + 4, load<i32>(index), key);
  if (n <= SMALL) return scan(keys, n, key);
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = keyOrder(load<i32>(keys + (mid << 2)), key);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** Fixed objects above this many entries get an index when made; smaller ones are bisected. */
export const INDEXED: i32 = 1024;

/** The index of a fixed object's keys: [slotCap, slots...], each slot 0 or entry + 1. */
export function inlineIndex(keys: i32, n: i32, slots: i32, slotCap: i32): void {
  store<i32>(slots, slotCap);
  memory.fill(slots + 4, 0, slotCap << 2);
  fillSlots(keys, n, slots + 4, slotCap);
}

/** Index of key in the collection, or -1. */
export function colFind(v: i32, key: i32): i32 {
  if (isInline(v)) return inlineFind(v, key);
  const slots = load<i32>(v, 20);
  if (slots == 0) return scan(load<i32>(v, 12), colLen(v), key);
  return probe(load<i32>(v, 12), slots, load<i32>(v, 24), key);
}

function grow(v: i32, isObject: bool): void {
  const len = colLen(v);
  const cap = load<i32>(v, 8);
  if (len < cap) return;
  const ncap = cap < 4 ? 4 : cap << 1;
  const nk = alloc(ncap << 2);
  if (len > 0) memory.copy(nk, load<i32>(v, 12), len << 2);
  store<i32>(v, nk, 12);
  if (isObject) {
    const nv = alloc(ncap << 2);
    if (len > 0) memory.copy(nv, load<i32>(v, 16), len << 2);
    store<i32>(v, nv, 16);
  }
  store<i32>(v, ncap, 8);
}

/** Appends an entry known to be absent, keeping the index and sorted flag up to date. */
function appendEntry(v: i32, key: i32, val: i32): void {
  const isObject = tagOf(v) == T_OBJECT;
  grow(v, isObject);
  const len = colLen(v);
  store<i32>(load<i32>(v, 12) + (len << 2), key);
  if (isObject) store<i32>(load<i32>(v, 16) + (len << 2), val);
  if (len > 0 && (load<i32>(v, 28) & F_SORTED) != 0 && compare(colKey(v, len - 1), key) > 0) {
    store<i32>(v, load<i32>(v, 28) & ~F_SORTED, 28);
  }
  store<i32>(v, len + 1, 4);
  const slots = load<i32>(v, 20);
  if (slots == 0) {
    if (len + 1 > SMALL) buildIndex(v, 32);
    return;
  }
  const slotCap = load<i32>(v, 24);
  if ((len + 1) * 2 > slotCap) {
    buildIndex(v, slotCap << 1);
    return;
  }
  const mask = slotCap - 1;
  let s = <i32>hash(key) & mask;
  while (load<i32>(slots + (s << 2)) != 0) s = (s + 1) & mask;
  store<i32>(slots + (s << 2), len + 1);
}

/** Inserts or replaces key in an object. */
export function objInsert(v: i32, key: i32, val: i32): void {
  const i = colFind(v, key);
  if (i >= 0) {
    store<i32>(load<i32>(v, 16) + (i << 2), val);
    return;
  }
  appendEntry(v, key, val);
}

/** Appends without a membership check; the caller guarantees the key is new. */
export function colAppendNew(v: i32, key: i32, val: i32): void {
  appendEntry(v, key, val);
}

export function setAdd(v: i32, key: i32): void {
  if (colFind(v, key) >= 0) return;
  appendEntry(v, key, 0);
}

export function objGet(v: i32, key: i32): i32 {
  const i = colFind(v, key);
  return i < 0 ? 0 : colVal(v, i);
}

function swap(p: i32, i: i32, j: i32): void {
  const a = p + (i << 2), b = p + (j << 2);
  const t = load<i32>(a);
  store<i32>(a, load<i32>(b));
  store<i32>(b, t);
}

function sortRange(keys: i32, vals: i32, lo: i32, hi: i32): void {
  while (hi - lo > 12) {
    const mid = lo + ((hi - lo) >> 1);
    // median of three into lo
    if (compare(load<i32>(keys + (mid << 2)), load<i32>(keys + (lo << 2))) < 0) { swap(keys, mid, lo); if (vals) swap(vals, mid, lo); }
    if (compare(load<i32>(keys + ((hi - 1) << 2)), load<i32>(keys + (lo << 2))) < 0) { swap(keys, hi - 1, lo); if (vals) swap(vals, hi - 1, lo); }
    if (compare(load<i32>(keys + ((hi - 1) << 2)), load<i32>(keys + (mid << 2))) < 0) { swap(keys, hi - 1, mid); if (vals) swap(vals, hi - 1, mid); }
    swap(keys, lo, mid); if (vals) swap(vals, lo, mid);
    const pivot = load<i32>(keys + (lo << 2));
    let i = lo + 1, j = hi - 1;
    while (true) {
      while (i <= j && compare(load<i32>(keys + (i << 2)), pivot) < 0) i++;
      while (i <= j && compare(load<i32>(keys + (j << 2)), pivot) > 0) j--;
      if (i >= j) break;
      swap(keys, i, j); if (vals) swap(vals, i, j);
      i++; j--;
    }
    swap(keys, lo, j); if (vals) swap(vals, lo, j);
    if (j - lo < hi - j - 1) { sortRange(keys, vals, lo, j); lo = j + 1; }
    else { sortRange(keys, vals, j + 1, hi); hi = j; }
  }
  for (let i = lo + 1; i < hi; i++) {
    const k = load<i32>(keys + (i << 2));
    const x = vals ? load<i32>(vals + (i << 2)) : 0;
    let j = i - 1;
    while (j >= lo && compare(load<i32>(keys + (j << 2)), k) > 0) {
      store<i32>(keys + ((j + 1) << 2), load<i32>(keys + (j << 2)));
      if (vals) store<i32>(vals + ((j + 1) << 2), load<i32>(vals + (j << 2)));
      j--;
    }
    store<i32>(keys + ((j + 1) << 2), k);
    if (vals) store<i32>(vals + ((j + 1) << 2), x);
  }
}

/** Sorts an object's or set's entries by key (OPA's iteration and print order). */
export function ensureSorted(v: i32): void {
  if (isInline(v) || (load<i32>(v, 28) & F_SORTED) != 0) return;
  const n = colLen(v);
  sortRange(load<i32>(v, 12), load<i32>(v, 16), 0, n);
  store<i32>(v, load<i32>(v, 28) | F_SORTED, 28);
  if (load<i32>(v, 20) != 0) buildIndex(v, load<i32>(v, 24));
}

/** Sorts an array of values in place (used by `sort` and set printing). */
export function sortValues(p: i32, n: i32): void {
  sortRange(p, 0, 0, n);
}

/** Removes key from an object or set, keeping the order of the other entries; false if absent. */
export function colRemove(v: i32, key: i32): bool {
  const i = colFind(v, key);
  if (i < 0) return false;
  const n = colLen(v);
  const keys = load<i32>(v, 12), vals = load<i32>(v, 16);
  memory.copy(keys + (i << 2), keys + ((i + 1) << 2), (n - i - 1) << 2);
  if (vals != 0) memory.copy(vals + (i << 2), vals + ((i + 1) << 2), (n - i - 1) << 2);
  store<i32>(v, n - 1, 4);
  if (load<i32>(v, 20) != 0) buildIndex(v, load<i32>(v, 24));
  return true;
}
