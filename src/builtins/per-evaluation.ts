// Values that OPA keeps fixed for the whole of one query (time.now_ns, uuid.rfc4122 per key,
// rand.intn per key). The SDK evaluates synchronously and calls host builtins inside that call, so a
// cache cleared on the next microtask lives exactly as long as the evaluation that filled it. A decision
// that uses http.send is evaluated in several passes (see http-send/session.ts): its values live in the
// session instead, so every pass sees the same time and builds the same requests, and the session can report
// them as OPA's nd_builtin_cache (builtin name → its arguments as JSON → value).
import { canonicalJson } from './http-send/request.js';
import { currentSession } from './http-send/session.js';

const cache = new Map<string, unknown>();
let clearScheduled = false;

export function perEvaluation<T>(builtin: string, args: unknown[], make: () => T): T {
  const argsKey = canonicalJson(args);
  const key = builtin + argsKey;
  const session = currentSession();
  if (session) {
    if (!session.fixedValues.has(key)) session.fixedValues.set(key, make());
    const value = session.fixedValues.get(key) as T;
    session.recordNondeterministic(builtin, argsKey, value);
    return value;
  }
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
