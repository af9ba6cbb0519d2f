// Evaluate, fetch what http.send was missing, evaluate again: the loop that lets a synchronous wasm
// evaluation use http.send without blocking the event loop. A decision that needs no request finishes in
// the first, synchronous pass (so does one answered from the inter-query cache); each request that has to
// go out costs one round trip and one re-evaluation, up to verdict.http_send.max_requests_per_decision.
import type { HttpSendClient } from '../builtins/http-send/client.js';
import { HttpSendSession, NeedsResponse, withSession, type NdBuiltinCache } from '../builtins/http-send/session.js';
import { EvaluationError } from './program.js';

/**
 * `evaluate` gets the session, whose ndBuiltinCache() reports what the non-deterministic builtins answered.
 * `recorded` replays a logged decision: its nd_builtin_cache answers, and a request it lacks fails with NotRecorded.
 */
export function evaluateWithHttpSend<T>(client: HttpSendClient, evaluate: (session: HttpSendSession) => T, recorded?: NdBuiltinCache): T | Promise<T> {
  const session = new HttpSendSession(client, recorded);
  try {
    return withSession(session, () => evaluate(session));
  } catch (err) {
    if (!(err instanceof NeedsResponse)) throw err;
    return resume(client.settings.maxRequestsPerDecision, session, evaluate, err);
  }
}

async function resume<T>(max: number, session: HttpSendSession, evaluate: (session: HttpSendSession) => T, needed: NeedsResponse): Promise<T> {
  for (;;) {
    if (session.fetched >= max) {
      throw new EvaluationError(`http.send: the decision needs more than ${max} requests (verdict.http_send.max_requests_per_decision)`, '');
    }
    await session.fetch(needed);
    try {
      return withSession(session, () => evaluate(session));
    } catch (err) {
      if (!(err instanceof NeedsResponse)) throw err;
      needed = err;
    }
  }
}
