// Bump allocator over the imported memory. The SDK resets the heap pointer between evaluations
// (opa_heap_ptr_set) and writes the fast-path input just above it, so nothing may live above
// the pointer and there are no free lists to clear: opa_free is a no-op and a reset frees all.

/** First free byte after static data; the code generator rewrites this global's initial value. */
export let heapBase: i32 = 0;
let heapTop: i32 = 0;
/** Allocations must end at or below this address, 0 for no bound: the host's text being parsed lies above it. */
let heapLimit: i32 = 0;

export function heapInitIfNeeded(): void {
  if (heapTop == 0) {
    heapTop = heapBase != 0 ? heapBase : (<i32>__heap_base + 7) & ~7;
  }
}

export function heapGet(): i32 {
  heapInitIfNeeded();
  return heapTop;
}

/** Times the heap pointer was set from outside: what was allocated before may since have been overwritten. */
export let heapResets: i32 = 0;

/** Sets the heap pointer, and lifts any bound (heapLimitSet) a trapped parse left behind. */
export function heapSet(ptr: i32): void {
  heapTop = ptr;
  heapLimit = 0;
  heapResets++;
}

/** Gives back the most recent allocations, from `ptr` on (scratch space used and done with). */
export function heapRelease(ptr: i32): void {
  heapTop = ptr;
}

export function heapLimitSet(limit: i32): void {
  heapLimit = limit;
}

export function alloc(size: i32): i32 {
  return allocAligned(size, 7);
}

/** Loaded data's records, 4-aligned: their i64 and f64 fields are read unaligned, which wasm allows. */
export function allocData(size: i32): i32 {
  return allocAligned(size, 3);
}

function allocAligned(size: i32, mask: i32): i32 {
  heapInitIfNeeded();
  const ptr = (heapTop + mask) & ~mask;
  const end = ptr + size;
  if (heapLimit != 0 && end > heapLimit) unreachable();
  const have = memory.size() << 16;
  if (end > have) {
    const need = ((end - have + 0xffff) >>> 16);
    const grow = need > 16 ? need : 16;
    if (memory.grow(grow) < 0 && memory.grow(need) < 0) unreachable();
  }
  heapTop = end;
  return ptr;
}

/**
 * Scratch space for as long as a bounded parse runs (heapLimitSet): taken from the top of the room, below the
 * bound, it lies above the heap pointer when the parse ends, so it leaves no gap among the values. Without a
 * bound it is an ordinary allocation.
 */
export function allocScratch(size: i32): i32 {
  if (heapLimit == 0) return alloc(size);
  const ptr = (heapLimit - size) & ~7;
  if (ptr < heapTop) unreachable();
  heapLimit = ptr;
  return ptr;
}

export function allocZeroed(size: i32): i32 {
  const p = alloc(size);
  memory.fill(p, 0, size);
  return p;
}
