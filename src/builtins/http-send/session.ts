// One decision's http.send responses. Host builtins are synchronous, so http.send cannot wait for the
// network: when a policy asks for a request the session has not seen, the builtin aborts the evaluation
// (NeedsResponse), the engine fetches it asynchronously and evaluates again from the start, and this time
// the builtin answers from the session. The same request within one decision therefore always gets the
// same response (OPA's intra-query cache), and the requests go out in the order OPA's evaluation issues them.
import { canonicalJson, HttpSendError, parseRequest, raiseErrorOf, type HttpSendRequest } from './request.js';
import type { HttpSendClient, HttpSendResponse } from './client.js';
import { noteBuiltinFailure } from '../failures.js';
import { currentTrace, withTrace } from '../../tracing/index.js';

/** Thrown through the wasm module to abort an evaluation that needs a response not fetched yet. */
export class NeedsResponse extends Error {
  override name = 'NeedsResponse';
  constructor(
    readonly key: string,
    readonly request: HttpSendRequest,
  ) {
    super('http.send: response not fetched yet (the evaluation is aborted and resumed by the engine)');
  }
}

/**
 * Thrown when a replayed decision (src/replay) calls http.send with a request its logged event did not record:
 * a replay never sends requests, so the decision cannot be replayed.
 */
export class NotRecorded extends Error {
  override name = 'NotRecorded';
  constructor(readonly request: HttpSendRequest) {
    super(`http.send ${request.method} ${request.url}: the logged decision did not record this response`);
  }
}

/** OPA's nd_builtin_cache: builtin name → its arguments as canonical JSON → the value it answered. */
export type NdBuiltinCache = Record<string, Record<string, unknown>>;

/** The response, or the error that makes OPA's (non-strict) call undefined. */
type Answer = HttpSendResponse | HttpSendError;

export class HttpSendSession {
  private readonly answers = new Map<string, Answer>();
  /** Requests the decision had to wait for (each cost a re-evaluation). */
  fetched = 0;
  /** time.now_ns, uuid.rfc4122, rand.intn: fixed for the whole decision, across its passes (per-evaluation.ts). */
  readonly fixedValues = new Map<string, unknown>();
  /** What the non-deterministic builtins answered: builtin name → arguments (canonical JSON) → value. */
  private readonly nondeterministic = new Map<string, Map<string, unknown>>();

  /** Set when replaying a logged decision: answers come from its nd_builtin_cache only, nothing is sent. */
  private readonly replaying: boolean;
  /** The decision's trace: requests are fetched after an await, as its children. */
  private readonly trace = currentTrace();

  constructor(
    private readonly client: HttpSendClient,
    recorded?: NdBuiltinCache,
  ) {
    this.replaying = recorded !== undefined;
    for (const [builtin, calls] of Object.entries(recorded ?? {})) {
      for (const [argsKey, value] of Object.entries(calls)) {
        if (builtin === 'http.send') {
          const [raw] = JSON.parse(argsKey) as unknown[];
          this.answers.set(canonicalJson(raw), value as Answer);
        } else {
          // time.now_ns answers a bigint; the cache holds it as a JSON number.
          this.fixedValues.set(builtin + argsKey, builtin === 'time.now_ns' && typeof value === 'number' ? BigInt(value) : value);
        }
      }
    }
  }

  recordNondeterministic(builtin: string, argsKey: string, value: unknown): void {
    let calls = this.nondeterministic.get(builtin);
    if (!calls) this.nondeterministic.set(builtin, (calls = new Map()));
    calls.set(argsKey, value);
  }

  /** OPA's nd_builtin_cache for the decision: every non-deterministic call's answer, as JSON. */
  ndBuiltinCache(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [builtin, calls] of this.nondeterministic) {
      // time.now_ns is a bigint: JSON numbers beyond 2^53 are rounded, as decision results are.
      out[builtin] = Object.fromEntries([...calls].map(([args, value]) => [args, typeof value === 'bigint' ? Number(value) : value]));
    }
    return out;
  }

  /**
   * The builtin's answer for a request object; throws NeedsResponse when it must be fetched first. An error
   * is noted (for strict-builtin-errors) and the call is undefined.
   */
  answer(raw: unknown): HttpSendResponse | undefined {
    const answer = this.answerFor(raw);
    if (answer instanceof HttpSendError) {
      noteBuiltinFailure('http.send', answer);
      return undefined;
    }
    this.recordNondeterministic('http.send', canonicalJson([raw]), answer);
    return answer;
  }

  private answerFor(raw: unknown): Answer {
    const key = canonicalJson(raw);
    if (this.answers.has(key)) return this.answers.get(key)!;
    let request: HttpSendRequest;
    try {
      request = parseRequest(raw);
    } catch (err) {
      if (!(err instanceof HttpSendError)) throw err;
      // A malformed request is answered without a round trip: undefined, or OPA's error object.
      const answer = raiseErrorOf(raw) ? err : { status_code: 0, error: { code: 'eval_http_send_internal_error', message: err.opaMessage } };
      this.answers.set(key, answer);
      return answer;
    }
    // A warm inter-query cache answers at once: no abort, no re-evaluation. A replay answers from its record only.
    const cached = this.replaying ? undefined : this.client.cached(request);
    if (cached) {
      this.answers.set(key, cached);
      return cached;
    }
    throw new NeedsResponse(key, request);
  }

  /** Fetches what an aborted evaluation needed; a failure with raise_error true is the call's error. */
  async fetch(needed: NeedsResponse): Promise<void> {
    if (this.replaying) throw new NotRecorded(needed.request);
    this.fetched++;
    let answer: Answer;
    try {
      answer = await withTrace(this.trace, () => this.client.send(needed.request));
    } catch (err) {
      if (!(err instanceof HttpSendError)) throw err;
      answer = err;
    }
    this.answers.set(needed.key, answer);
  }
}

let current: HttpSendSession | undefined;

/** Runs a synchronous evaluation with `session` answering its http.send calls. */
export function withSession<T>(session: HttpSendSession, evaluate: () => T): T {
  const outer = current;
  current = session;
  try {
    return evaluate();
  } finally {
    current = outer;
  }
}

/** The session of the evaluation running now (evaluations are synchronous, so there is at most one). */
export function currentSession(): HttpSendSession | undefined {
  return current;
}
