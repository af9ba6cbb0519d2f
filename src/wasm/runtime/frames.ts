// Explicit stacks for walks over nested values (printing, comparing, hashing). Values nest as deep as inputs
// and data may (10,000 levels) and a little deeper once a policy wraps them, and the engine's call stack does
// not take a recursive walk that deep, so walks keep their frames here instead.
//
// A stack starts in its own static region, enough for ordinary values, and moves to the heap when a walk
// goes deeper (during a bounded parse, to scratch space above the values: heap.ts allocScratch). The heap is
// reset between evaluations, so an outermost walk (top at 0) always starts back in the static region and the
// heap copy lives only as long as that walk. A walk may start another of the same
// kind inside it (a key inside a key): it pushes above the frames of the outer one and pops back to them.

import { allocScratch } from './heap';

/** Frames in each stack's static region; each walker declares its region as memory.data(STATIC_FRAMES * size). */
export const STATIC_FRAMES: i32 = 512;

// A stack is a descriptor of four i32s (memory.data(16)): frames address, capacity, top, frame size.

@inline function framesOf(d: i32): i32 { return load<i32>(d); }
@inline function capOf(d: i32): i32 { return load<i32>(d, 4); }
@inline export function depthOf(d: i32): i32 { return load<i32>(d, 8); }
@inline function sizeOf(d: i32): i32 { return load<i32>(d, 12); }

/** Starts a walk on stack `d` (static region `region`, frames of `size` bytes); returns the depth to pop back to. */
export function enter(d: i32, region: i32, size: i32): i32 {
  const top = load<i32>(d, 8);
  if (top == 0) {
    store<i32>(d, region);
    store<i32>(d, STATIC_FRAMES, 4);
    store<i32>(d, size, 12);
  }
  return top;
}

/** Pushes a frame; returns its address (valid until the next push). */
export function push(d: i32): i32 {
  const top = depthOf(d);
  const size = sizeOf(d);
  if (top == capOf(d)) {
    const cap = capOf(d) << 1;
    const p = allocScratch(cap * size);
    memory.copy(p, framesOf(d), top * size);
    store<i32>(d, p);
    store<i32>(d, cap, 4);
  }
  store<i32>(d, top + 1, 8);
  return framesOf(d) + top * size;
}

/** The address of frame `i` (0 at the bottom; valid until the next push). */
@inline export function frameAt(d: i32, i: i32): i32 { return framesOf(d) + i * sizeOf(d); }

/** The address of the top frame. */
@inline export function topFrame(d: i32): i32 { return framesOf(d) + (depthOf(d) - 1) * sizeOf(d); }

export function pop(d: i32): void { store<i32>(d, depthOf(d) - 1, 8); }

/** Drops every frame above `depth` (a walk that ends early). */
export function popTo(d: i32, depth: i32): void { store<i32>(d, depth, 8); }
