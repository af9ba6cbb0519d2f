// walk, graph.reachable, json.filter, json.remove, strings.replace_n.
import {
  T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, tagOf, mkArray, arrAppend, arrLen, arrGet, colLen, colKey,
  colVal, mkCollection, mkNull, mkString, strLen, strPtr, mkInt,
} from '../value';
import { alloc, allocZeroed } from '../heap';
import { colFind, colAppendNew, ensureSorted, objGet, objInsert, setAdd } from '../collection';
import { equal } from '../compare';
import { writeI64 } from '../number';
import { dumpToString } from '../json';
import { utf8Width } from '../ops';
import { STATIC_FRAMES, enter, push, pop, topFrame, depthOf } from '../frames';

let WALK: i32 = 0;
let WALK_FRAMES: i32 = 0;

/** Appends [path, v] to out and, for a collection with children, pushes its frame (collection, path, next). */
function visit(v: i32, path: i32, out: i32): void {
  const pair = mkArray(2);
  arrAppend(pair, path);
  arrAppend(pair, v);
  arrAppend(out, pair);
  const t = tagOf(v);
  if (t != T_ARRAY && t != T_OBJECT && t != T_SET) return;
  if (t != T_ARRAY) ensureSorted(v);
  if ((t == T_ARRAY ? arrLen(v) : colLen(v)) == 0) return;
  const f = push(WALK);
  store<i32>(f, v);
  store<i32>(f, path, 4);
  store<i32>(f, 0, 8);
}

/**
 * walk(x): every [path, value] pair of x in pre-order, children in key order. An explicit stack (frames.ts)
 * keeps values of any depth off the engine's call stack.
 */
export function b_walk(v: i32): i32 {
  const out = mkArray(0);
  const base = enter(WALK, WALK_FRAMES, 12);
  visit(v, mkArray(0), out);
  while (depthOf(WALK) > base) {
    const f = topFrame(WALK);
    const c = load<i32>(f), path = load<i32>(f, 4), i = load<i32>(f, 8);
    const t = tagOf(c);
    if (i == (t == T_ARRAY ? arrLen(c) : colLen(c))) {
      pop(WALK);
      continue;
    }
    store<i32>(f, i + 1, 8);
    const key = t == T_ARRAY ? mkInt(i) : colKey(c, i);
    const child = t == T_ARRAY ? arrGet(c, i) : t == T_OBJECT ? colVal(c, i) : colKey(c, i);
    const depth = arrLen(path);
    const p = mkArray(depth + 1);
    for (let j = 0; j < depth; j++) arrAppend(p, arrGet(path, j));
    arrAppend(p, key);
    visit(child, p, out);
  }
  return out;
}

function eachVertex(c: i32, queue: i32, reached: i32): void {
  const t = tagOf(c);
  if (t == T_ARRAY) {
    for (let i = 0; i < arrLen(c); i++) if (colFind(reached, arrGet(c, i)) < 0) arrAppend(queue, arrGet(c, i));
  } else if (t == T_SET) {
    for (let i = 0; i < colLen(c); i++) if (colFind(reached, colKey(c, i)) < 0) arrAppend(queue, colKey(c, i));
  }
}

export function b_graph_reachable(graph: i32, initial: i32): i32 {
  if (tagOf(graph) != T_OBJECT) return 0;
  const ti = tagOf(initial);
  if (ti != T_ARRAY && ti != T_SET) return 0;
  const reached = mkCollection(T_SET, 0);
  const queue = mkArray(0);
  if (ti == T_ARRAY) for (let i = 0; i < arrLen(initial); i++) arrAppend(queue, arrGet(initial, i));
  else for (let i = 0; i < colLen(initial); i++) arrAppend(queue, colKey(initial, i));
  for (let q = 0; q < arrLen(queue); q++) {
    const node = arrGet(queue, q);
    const edges = objGet(graph, node);
    if (edges == 0) continue;
    eachVertex(edges, queue, reached);
    setAdd(reached, node);
  }
  return reached;
}

// ---- json.filter / json.remove: paths become a tree of string segments; a null leaf ends a path ----

function segmentKey(s: i32): i32 {
  const t = tagOf(s);
  if (t == T_STRING) return s;
  if (t == T_NUMBER) {
    const str = dumpToString(s);
    return str;
  }
  return 0;
}

function addPath(tree: i32, segs: i32): bool {
  let node = tree;
  const n = arrLen(segs);
  if (n == 0) return true;
  for (let i = 0; i < n; i++) {
    const k = segmentKey(arrGet(segs, i));
    if (k == 0) return false;
    if (i == n - 1) { objInsert(node, k, mkNull()); return true; }
    const child = objGet(node, k);
    if (child != 0 && tagOf(child) != T_OBJECT) return true; // a shorter path already covers it
    if (child == 0) {
      const c = mkCollection(T_OBJECT, 0);
      objInsert(node, k, c);
      node = c;
    } else node = child;
  }
  return true;
}

/** Splits "a/b/c" (leading slash ignored) into an array of string segments. */
function splitPath(s: i32): i32 {
  const p = strPtr(s), n = strLen(s);
  const out = mkArray(0);
  let start = n > 0 && load<u8>(p) == 0x2f ? 1 : 0;
  if (start >= n) return out;
  for (let i = start; i <= n; i++) {
    if (i == n || load<u8>(p + i) == 0x2f) {
      arrAppend(out, mkString(p + start, i - start));
      start = i + 1;
    }
  }
  return out;
}

function pathTree(paths: i32): i32 {
  const t = tagOf(paths);
  if (t != T_ARRAY && t != T_SET) return 0;
  const tree = mkCollection(T_OBJECT, 0);
  const n = t == T_ARRAY ? arrLen(paths) : colLen(paths);
  for (let i = 0; i < n; i++) {
    const p = t == T_ARRAY ? arrGet(paths, i) : colKey(paths, i);
    const tp = tagOf(p);
    let segs = 0;
    if (tp == T_STRING) segs = splitPath(p);
    else if (tp == T_ARRAY) segs = p;
    else return 0;
    if (!addPath(tree, segs)) return 0;
  }
  return tree;
}

function indexKey(i: i32): i32 {
  const b = alloc(12);
  return mkString(b, writeI64(b, i));
}

function filterBy(v: i32, tree: i32): i32 {
  const t = tagOf(v);
  if (t == T_OBJECT) {
    const r = mkCollection(T_OBJECT, 0);
    for (let i = 0; i < colLen(tree); i++) {
      const k = colKey(tree, i);
      const sub = colVal(tree, i);
      const x = objGet(v, k);
      if (x == 0) continue;
      objInsert(r, k, tagOf(sub) == T_OBJECT ? filterBy(x, sub) : x);
    }
    return r;
  }
  if (t == T_ARRAY) {
    const r = mkArray(0);
    for (let i = 0; i < arrLen(v); i++) {
      const sub = objGet(tree, indexKey(i));
      if (sub == 0) continue;
      arrAppend(r, tagOf(sub) == T_OBJECT ? filterBy(arrGet(v, i), sub) : arrGet(v, i));
    }
    return r;
  }
  if (t == T_SET) {
    const r = mkCollection(T_SET, 0);
    for (let i = 0; i < colLen(v); i++) {
      const x = colKey(v, i);
      const sub = objGet(tree, segmentKey(x) != 0 ? segmentKey(x) : x);
      if (sub != 0) setAdd(r, x);
    }
    return r;
  }
  return v;
}

function removeBy(v: i32, tree: i32): i32 {
  const t = tagOf(v);
  if (t == T_OBJECT) {
    const r = mkCollection(T_OBJECT, 0);
    for (let i = 0; i < colLen(v); i++) {
      const k = colKey(v, i);
      const sub = objGet(tree, tagOf(k) == T_STRING ? k : segmentKey(k));
      if (sub == 0) colAppendNew(r, k, colVal(v, i));
      else if (tagOf(sub) == T_OBJECT) colAppendNew(r, k, removeBy(colVal(v, i), sub));
    }
    return r;
  }
  if (t == T_ARRAY) {
    const r = mkArray(0);
    for (let i = 0; i < arrLen(v); i++) {
      const sub = objGet(tree, indexKey(i));
      if (sub == 0) arrAppend(r, arrGet(v, i));
      else if (tagOf(sub) == T_OBJECT) arrAppend(r, removeBy(arrGet(v, i), sub));
    }
    return r;
  }
  if (t == T_SET) {
    const r = mkCollection(T_SET, 0);
    for (let i = 0; i < colLen(v); i++) {
      const x = colKey(v, i);
      const key = segmentKey(x);
      if (key == 0 || objGet(tree, key) == 0) setAdd(r, x);
    }
    return r;
  }
  return v;
}

export function b_json_filter(v: i32, paths: i32): i32 {
  if (tagOf(v) != T_OBJECT) return 0;
  const tree = pathTree(paths);
  return tree == 0 ? 0 : filterBy(v, tree);
}

export function b_json_remove(v: i32, paths: i32): i32 {
  if (tagOf(v) != T_OBJECT) return 0;
  const tree = pathTree(paths);
  return tree == 0 ? 0 : removeBy(v, tree);
}

/**
 * strings.replace_n(patterns, s): Go's strings.NewReplacer with the patterns in key order. At each
 * position the earliest pattern that matches wins; an empty pattern matches everywhere, but not
 * twice in a row at the same position (Go's genericReplacer).
 */
export function b_strings_replace_n(patterns: i32, s: i32): i32 {
  if (tagOf(patterns) != T_OBJECT || tagOf(s) != T_STRING) return 0;
  ensureSorted(patterns);
  const n = colLen(patterns);
  for (let i = 0; i < n; i++) if (tagOf(colKey(patterns, i)) != T_STRING || tagOf(colVal(patterns, i)) != T_STRING) return 0;
  const p = strPtr(s), len = strLen(s);
  const pieces = mkArray(0);
  let total = 0;
  let i = 0, last = 0;
  let prevEmpty = false;
  while (i <= len) {
    let hit = -1;
    for (let k = 0; k < n; k++) {
      const key = colKey(patterns, k);
      const kl = strLen(key);
      if (kl == 0 && prevEmpty) continue;
      if (i + kl <= len && memory.compare(p + i, strPtr(key), kl) == 0) { hit = k; break; }
    }
    if (hit >= 0) {
      const kl = strLen(colKey(patterns, hit)), val = colVal(patterns, hit);
      prevEmpty = kl == 0;
      if (i > last) { arrAppend(pieces, mkString(p + last, i - last)); total += i - last; }
      arrAppend(pieces, val);
      total += strLen(val);
      i += kl;
      last = i;
      continue;
    }
    prevEmpty = false;
    if (i == len) break;
    i += utf8Width(p, i, len);
  }
  if (last < len) { arrAppend(pieces, mkString(p + last, len - last)); total += len - last; }
  const buf = alloc(total);
  let o = 0;
  for (let j = 0; j < arrLen(pieces); j++) {
    const x = arrGet(pieces, j);
    memory.copy(buf + o, strPtr(x), strLen(x));
    o += strLen(x);
  }
  return mkString(buf, total);
}

/** Allocates this module's scratch space, one per instance (region.ts). */
export function pathsStaticsInit(): void {
  WALK = allocZeroed(16);
  WALK_FRAMES = allocZeroed(STATIC_FRAMES * 12);
}
