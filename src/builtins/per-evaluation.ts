// Values that OPA keeps fixed for the whole of one query (time.now_ns, uuid.rfc4122 per key,
// rand.intn per key). The SDK evaluates synchronously and calls host builtins inside that call, so a
// cache cleared on the next microtask lives exactly as long as the evaluation that filled it.

const cache = new Map<string, unknown>();
let clearScheduled = false;

export function perEvaluation<T>(key: string, make: () => T): T {
  if (cache.has(key)) return cache.get(key) as T;
  const value = make();
  cache.set(key, value);
  if (!clearScheduled) {
    clearScheduled = true;
    queueMicrotask(() => {
      cache.clear();
      clearScheduled = false;
    });
  }
  return value;
}
