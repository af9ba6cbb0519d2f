// What the primary adds to the environment of the worker processes it forks.
// MALLOC_ARENA_MAX: glibc gives each thread that allocates concurrently an arena of its own, up to eight per
// core, and an arena keeps the memory freed into it. A worker's allocating threads are few (the event loop,
// the decision-log writer, V8's compiler and GC helpers); two arenas serve them and kept 5–7 MiB less resident
// per worker after activating 20 MB of data. A value the operator set is kept.
export function workerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: '2' } : {};
}
