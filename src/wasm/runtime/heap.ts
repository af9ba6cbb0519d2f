// Bump allocator over the imported memory. The SDK resets the heap pointer between evaluations
// (opa_heap_ptr_set) and writes the fast-path input just above it, so nothing may live above
// the pointer and there are no free lists to clear: opa_free is a no-op and a reset frees all.
// An instance on a memory shared with other instances (src/engine/shared-data.ts) allocates inside its own
// region only: heapEnd bounds it, and the memory is never grown from here.

@external("env", "opa_abort")
export declare function opa_abort(msg: i32): void;

const HEAP_EXHAUSTED: i32 = <i32>memory.data<u8>([
  0x76,0x65,0x72,0x64,0x69,0x63,0x74,0x3a,0x20,0x68,0x65,0x61,0x70,0x20,0x72,0x65,0x67,0x69,0x6f,0x6e,0x20,
  0x65,0x78,0x68,0x61,0x75,0x73,0x74,0x65,0x64,0]); // "verdict: heap region exhausted"

/** First free byte after static data; the code generator rewrites this global's initial value. */
export let heapBase: i32 = 0;
let heapTop: i32 = 0;
/** Allocations must end at or below this address, 0 for no bound: the host's text being parsed lies above it. */
let heapLimit: i32 = 0;
/** End of the instance's region on a shared memory, 0 where the memory is the instance's own (it grows). */
let heapEnd: i32 = 0;

/** Starts the heap at `start`, bounded by `end` (0: unbounded, the memory grows as needed). */
export function heapRegionSet(start: i32, end: i32): void {
  heapSet((start + 7) & ~7);
  heapEnd = end;
}

/** Moves the bound alone (data loading allocates into an area outside the instance's region). */
export function heapEndSet(end: i32): void {
  heapEnd = end;
}

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
  if (heapEnd != 0) {
    if (<u32>end > <u32>heapEnd) {
      opa_abort(HEAP_EXHAUSTED);
      unreachable();
    }
    heapTop = end;
    return ptr;
  }
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
