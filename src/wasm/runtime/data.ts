// Loaded data in its compact, read-only forms (value.ts F_* layouts), made by json.ts parseDetached as each
// collection closes. Records of one kind repeat their field names, and many small arrays repeat too (roles,
// tags): equal key lists and equal small arrays of already shared elements are made once and shared, through
// a direct-mapped table of the latest seen. The table lives as long as the values it points at: it is cleared
// whenever the heap pointer was set from outside (a new document, a parse started again with more room).
import { allocData, allocZeroed, heapGet, heapLimitSet, heapRelease, heapResets } from './heap';
import { T_STRING, tagOf, strLen, strPtr, mkArrayCopy, mkObjectInline, mkStringCopy, arrLen } from './value';
import { compare, compareBytes } from './compare';
import { INDEXED, inlineIndex } from './collection';

const SHARED_SLOTS: i32 = 1024;
/** Arrays and key lists up to this long are shared: longer ones rarely repeat. */
const LONGEST_SHARED: i32 = 16;
let sharedTable: i32 = 0;
const STRING_SLOTS: i32 = 1024;
let stringTable: i32 = 0;
let sharedResets: i32 = -1;

/** Starts a parse of data: the tables are cleared if the heap was reset since they were filled. */
export function dataParseStart(): void {
  if (sharedResets == heapResets) return;
  sharedResets = heapResets;
  memory.fill(sharedTable, 0, SHARED_SLOTS << 2);
  memory.fill(stringTable, 0, STRING_SLOTS << 2);
}

/** A string of the len bytes at p (whose hash is h), shared with an equal one made before where the table has it. */
export function sharedString(p: i32, len: i32, h: u32): i32 {
  const slot = stringTable + ((<i32>(h ^ (h >> 15)) & (STRING_SLOTS - 1)) << 2);
  const known = load<i32>(slot);
  if (known != 0 && strLen(known) == len && memory.compare(known + 8, p, len) == 0) return known;
  const v = mkStringCopy(p, len);
  store<i32>(slot, v);
  return v;
}

/** A fixed array of the n element pointers at p, shared with an equal one made before where the table has it. */
export function sharedArray(p: i32, n: i32): i32 {
  if (n > LONGEST_SHARED) return mkArrayCopy(p, n);
  let h: u32 = 0x9e3779b9 ^ <u32>n;
  for (let i = 0; i < n; i++) h = (h ^ load<u32>(p + (i << 2))) * 0x01000193;
  const slot = sharedTable + ((<i32>(h ^ (h >> 16)) & (SHARED_SLOTS - 1)) << 2);
  const known = load<i32>(slot);
  if (known != 0 && arrLen(known) == n && memory.compare(known + 8, p, n << 2) == 0) return known;
  const v = mkArrayCopy(p, n);
  store<i32>(slot, v);
  return v;
}

@inline function keyOrder(a: i32, b: i32): i32 {
  if (tagOf(a) == T_STRING && tagOf(b) == T_STRING) return compareBytes(strPtr(a), strLen(a), strPtr(b), strLen(b));
  return compare(a, b);
}

/** Sorts n (key, value) pairs of 8 bytes at p by key, stably: insertion sort for few, merge sort otherwise. */
function sortPairs(p: i32, n: i32): void {
  if (n <= 16) {
    for (let i = 1; i < n; i++) {
      const pair = load<i64>(p + (i << 3));
      const k = <i32>pair;
      let j = i - 1;
      while (j >= 0 && keyOrder(load<i32>(p + (j << 3)), k) > 0) {
        store<i64>(p + ((j + 1) << 3), load<i64>(p + (j << 3)));
        j--;
      }
      store<i64>(p + ((j + 1) << 3), pair);
    }
    return;
  }
  // Bottom-up merge sort through scratch space above the heap, given back when done.
  const mark = heapGet();
  let from = p;
  let to = allocData(n << 3);
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = lo + width < n ? lo + width : n;
      const hi = lo + (width << 1) < n ? lo + (width << 1) : n;
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        if (keyOrder(load<i32>(from + (j << 3)), load<i32>(from + (i << 3))) < 0) store<i64>(to + (o++ << 3), load<i64>(from + (j++ << 3)));
        else store<i64>(to + (o++ << 3), load<i64>(from + (i++ << 3)));
      }
      while (i < mid) store<i64>(to + (o++ << 3), load<i64>(from + (i++ << 3)));
      while (j < hi) store<i64>(to + (o++ << 3), load<i64>(from + (j++ << 3)));
    }
    const t = from; from = to; to = t;
  }
  if (from != p) memory.copy(p, from, n << 3);
  heapRelease(mark);
}

/**
 * A fixed object of the n (key, value) pairs at p (which it reorders): sorted by key, the last of equal keys
 * kept as JSON parsers do, its key list shared where an equal one was made before, indexed when large.
 */
export function objectFromPairs(p: i32, n: i32): i32 {
  sortPairs(p, n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (i + 1 < n && keyOrder(load<i32>(p + (i << 3)), load<i32>(p + ((i + 1) << 3))) == 0) continue;
    store<i64>(p + (m++ << 3), load<i64>(p + (i << 3)));
  }
  const v = mkObjectInline(m, 0);
  for (let i = 0; i < m; i++) store<i32>(v + 16 + (i << 2), load<i32>(p + (i << 3), 4));
  // The values copied out, the keys move into the first half of the pairs' space, each to a place already read.
  for (let i = 0; i < m; i++) store<i32>(p + (i << 2), load<i32>(p + (i << 3)));
  let list: i32;
  if (m <= LONGEST_SHARED) list = sharedArray(p, m) + 8;
  else {
    list = allocData(m << 2);
    memory.copy(list, p, m << 2);
  }
  store<i32>(v, list, 12);
  if (m > INDEXED) {
    let slotCap = 1024;
    while (slotCap < m + (m >> 1)) slotCap <<= 1;
    const index = allocData(4 + (slotCap << 2));
    inlineIndex(list, m, index, slotCap);
    store<i32>(v, index, 8);
  }
  return v;
}

/**
 * A loaded object from the n (key, value) pairs at p, which lie above the heap, far enough for everything made
 * here (the host places them; allocating past them traps). `keys`, the array the keys were parsed as, is given
 * back when it was the last allocation and is not shared: its strings stay, the array itself is not needed.
 */
export function dataObject(keys: i32, p: i32, n: i32): i32 {
  const k = arrLen(keys);
  if (k > LONGEST_SHARED && heapGet() == keys + 8 + (k << 2)) heapRelease(keys);
  heapLimitSet(p);
  const v = objectFromPairs(p, n);
  heapLimitSet(0);
  return v;
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function dataStaticsInit(): void {
  sharedTable = allocZeroed(SHARED_SLOTS << 2);
  stringTable = allocZeroed(STRING_SLOTS << 2);
}
