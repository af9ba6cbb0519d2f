// Decision replay: logged decisions re-evaluated against a candidate policy set, and what would change. The
// candidate runs in an Engine of its own (the server's engine, compiler and bundle format, never the active set),
// on each event's recorded input: the input the policy saw, PIP results included, so nothing is looked up again.
// Non-deterministic builtins answer from the event's nd_builtin_cache; a replay never sends an http.send request.
// Decisions are read page by page from the query interface, so memory stays flat however many are replayed.
import type { Bundle } from '../bundle/bundle.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { canonicalJson } from '../builtins/http-send/request.js';
import { NotRecorded, type NdBuiltinCache } from '../builtins/http-send/session.js';
import { credentialHeaders } from '../decisionlog/credentials.js';
import { parseTimestamp, type DecisionEvent } from '../decisionlog/event.js';
import { outcomeClassifier, type Outcome, type OutcomeClassifier } from '../decisionlog/outcome.js';
import { maxQueryLimit, type DecisionFilters, type StoredDecision } from '../decisionlog/query.js';
import { everyDecision, type DecisionQueries } from '../decisionlog/queries.js';
import { RegoCompileError, type RegoCompiler } from '../engine/compiler.js';
import { Engine } from '../engine/engine.js';
import { EvaluationError } from '../engine/program.js';
import { splitPath } from '../engine/store.js';
import { describeCompileError } from '../server/bundle-plugin.js';
import { evaluationErrorDetail } from '../server/errors.js';
import { writeJson } from '../json/writer.js';

/** Which logged decisions to replay: the filters of `verdict decisions search`, and optionally only the newest N. */
export interface ReplaySelection {
  filters?: Omit<DecisionFilters, 'limit' | 'cursor' | 'order'>;
  /** Only the newest N matching decisions. */
  last?: number;
  /** How many changed decisions the report lists (default 1000); all are counted. */
  maxListed?: number;
}

export type ChangeKind = 'allow_to_deny' | 'deny_to_allow' | 'now_errors' | 'result_changed';
export const changeKinds: readonly ChangeKind[] = ['allow_to_deny', 'deny_to_allow', 'now_errors', 'result_changed'];

/** Why a logged decision was not replayed. */
export type NotReplayableReason =
  /**
   * Credential masking (decision_logs.store.mask_credentials) cut Authorization, Proxy-Authorization or cookie
   * headers out of the stored input, as it does for every Envoy request carrying a bearer token: the policy
   * decided with them, a replay could only decide without them, so it would answer a different question.
   */
  | 'credentials_erased'
  /** The mask policy removed or replaced part of the input: never replayed with partial input. */
  | 'input_erased'
  | 'input_masked'
  /** The mask policy removed or replaced part of the result: there is nothing reliable to compare with. */
  | 'result_masked'
  /** A Query API decision (no path), or one logged without its input document. */
  | 'no_path'
  /** The request failed before the policy ran (an input that did not parse, a fail-closed PIP lookup). */
  | 'not_evaluated'
  /** The candidate calls http.send with a request the event did not record. */
  | 'http_send_not_recorded';

export interface DecisionSide {
  outcome: Outcome;
  result?: unknown;
  error?: { code: string; message: string };
}

export interface ChangedDecision {
  decision_id: string;
  timestamp: string;
  path: string;
  change: ChangeKind;
  old: DecisionSide;
  new: DecisionSide;
}

export interface ReplayReport {
  /** The candidate's bundles and revisions. */
  candidate: { name: string; revision: string }[];
  /** Logged decisions selected. */
  considered: number;
  replayed: number;
  changed: number;
  not_replayable: number;
  not_replayable_by_reason: Partial<Record<NotReplayableReason, number>>;
  by_change: Record<ChangeKind, number>;
  /** "old→new" outcome pairs of the changed decisions, e.g. "allow→deny". */
  by_transition: Record<string, number>;
  by_path: Record<string, { replayed: number; changed: number }>;
  changes: ChangedDecision[];
  /** True when more decisions changed than `changes` lists. */
  changes_truncated: boolean;
}

/** A policy set to replay against: its own engine, compiled and activated with the server's code, never served. */
export class ReplayCandidate {
  private constructor(
    private readonly engine: Engine,
    readonly bundles: Bundle[],
  ) {}

  /** Compiles and activates `bundles` in a private engine; throws as an activation would (BundleError for compile errors). */
  static async build(compiler: RegoCompiler, bundles: Bundle[], regoVersion: 0 | 1 = 1): Promise<ReplayCandidate> {
    // A client that is never asked: replayed sessions answer http.send from the record or fail with NotRecorded.
    const engine = new Engine(compiler, new HttpSendClient());
    engine.defaultRegoVersion = regoVersion;
    await engine.activate(bundles).catch((err: unknown) => {
      throw err instanceof RegoCompileError ? describeCompileError(err) : err;
    });
    return new ReplayCandidate(engine, bundles);
  }

  /** Replays the selected decisions from a decision store (the embedded log or the central store). */
  async replay(queries: DecisionQueries, selection: ReplaySelection = {}, classify: OutcomeClassifier = outcomeClassifier()): Promise<ReplayReport> {
    const report = emptyReport(this.bundles);
    const maxListed = selection.maxListed ?? 1000;
    for await (const stored of selected(queries, selection)) {
      // A server replaying a dry run keeps answering decisions meanwhile.
      if (++report.considered % 256 === 0) await new Promise(setImmediate);
      const refused = notReplayable(stored.event);
      if (refused) {
        report.not_replayable++;
        report.not_replayable_by_reason[refused] = (report.not_replayable_by_reason[refused] ?? 0) + 1;
        continue;
      }
      const path = stored.event.path!;
      let now: DecisionSide;
      try {
        now = await this.evaluate(stored.event, classify);
      } catch (err) {
        if (!(err instanceof NotRecorded)) throw err;
        report.not_replayable++;
        report.not_replayable_by_reason.http_send_not_recorded = (report.not_replayable_by_reason.http_send_not_recorded ?? 0) + 1;
        continue;
      }
      report.replayed++;
      const perPath = (report.by_path[path] ??= { replayed: 0, changed: 0 });
      perPath.replayed++;
      const before = sideOf(stored);
      const kind = changeOf(before, now);
      if (!kind) continue;
      report.changed++;
      perPath.changed++;
      report.by_change[kind]++;
      const transition = `${before.outcome}→${now.outcome}`;
      report.by_transition[transition] = (report.by_transition[transition] ?? 0) + 1;
      if (report.changes.length < maxListed) {
        report.changes.push({ decision_id: stored.event.decision_id, timestamp: stored.event.timestamp, path, change: kind, old: before, new: now });
      } else report.changes_truncated = true;
    }
    return report;
  }

  private async evaluate(event: DecisionEvent, classify: OutcomeClassifier): Promise<DecisionSide> {
    const input = event.input === undefined ? undefined : encoder.encode(writeJson(event.input));
    let side: Omit<DecisionSide, 'outcome'>;
    try {
      const outcome = this.engine.evaluate(splitPath(event.path!), input, { recorded: recordedAnswers(event) });
      const evaluation = outcome instanceof Promise ? await outcome : outcome;
      side = evaluation.defined ? { result: evaluation.result } : {};
    } catch (err) {
      if (!(err instanceof EvaluationError)) throw err;
      side = { error: evaluationErrorDetail(err) };
    }
    return { outcome: classify({ ...event, result: side.result, error: side.error }), ...side };
  }
}

const encoder = new TextEncoder();

function emptyReport(bundles: Bundle[]): ReplayReport {
  return {
    candidate: bundles.map((b) => ({ name: b.name, revision: b.manifest.revision })),
    considered: 0,
    replayed: 0,
    changed: 0,
    not_replayable: 0,
    not_replayable_by_reason: {},
    by_change: { allow_to_deny: 0, deny_to_allow: 0, now_errors: 0, result_changed: 0 },
    by_transition: {},
    by_path: {},
    changes: [],
    changes_truncated: false,
  };
}

/** The matching decisions, or the newest `last` of them (read newest first, page by page). */
async function* selected(queries: DecisionQueries, selection: ReplaySelection): AsyncGenerator<StoredDecision> {
  if (selection.last === undefined) {
    yield* everyDecision(queries, selection.filters);
    return;
  }
  let left = selection.last;
  let cursor: string | undefined;
  while (left > 0) {
    const page = await queries.query({ ...selection.filters, order: 'desc', limit: Math.min(left, maxQueryLimit), ...(cursor ? { cursor } : {}) });
    yield* page.decisions;
    left -= page.decisions.length;
    cursor = page.next_cursor;
    if (!cursor) return;
  }
}

function notReplayable(event: DecisionEvent): NotReplayableReason | undefined {
  const touches = (part: string, pointers?: string[]) => pointers?.some((p) => p === part || p.startsWith(part + '/')) === true;
  const inputErased = event.erased?.filter((p) => touches('/input', [p])) ?? [];
  if (inputErased.length > 0) return inputErased.every(isCredentialHeader) ? 'credentials_erased' : 'input_erased';
  if (touches('/input', event.masked)) return 'input_masked';
  if (touches('/result', event.erased) || touches('/result', event.masked)) return 'result_masked';
  if (event.path === undefined || event.path === '') return 'no_path';
  // Evaluation errors carry OPA's eval_* codes; anything else failed before the policy ran.
  if (event.error && !event.error.code.startsWith('eval_')) return 'not_evaluated';
  return undefined;
}

/** A pointer to a credential header of a `headers` object, as credential masking erases them. */
function isCredentialHeader(pointer: string): boolean {
  const segments = pointer.split('/');
  return segments.length >= 3 && segments.at(-2)!.toLowerCase() === 'headers' && credentialHeaders.has(segments.at(-1)!.toLowerCase());
}

/**
 * What the decision's non-deterministic builtins answered. time.now_ns missing from the record (the server ran
 * without nd_builtin_cache, or the old policy never asked) is the decision's own time, so replays are repeatable;
 * uuid.rfc4122 and rand.intn missing from it are drawn afresh.
 */
function recordedAnswers(event: DecisionEvent): NdBuiltinCache {
  const recorded = { ...((event.nd_builtin_cache ?? {}) as NdBuiltinCache) };
  if (!recorded['time.now_ns']?.['[]']) {
    const ns = parseTimestamp(event.timestamp);
    if (ns !== undefined) recorded['time.now_ns'] = { ...recorded['time.now_ns'], '[]': Number(ns) };
  }
  return recorded;
}

function sideOf(stored: StoredDecision): DecisionSide {
  const { result, error } = stored.event;
  return { outcome: stored.outcome, ...(result !== undefined ? { result } : {}), ...(error ? { error: { code: error.code, message: error.message } } : {}) };
}

/** How a decision changed, or undefined when it did not (two errors count as the same answer). */
function changeOf(before: DecisionSide, now: DecisionSide): ChangeKind | undefined {
  if (now.error) return before.error ? undefined : 'now_errors';
  if (!before.error && canonicalJson(before.result) === canonicalJson(now.result)) return undefined;
  if (before.outcome === 'allow' && now.outcome === 'deny') return 'allow_to_deny';
  if (before.outcome === 'deny' && now.outcome === 'allow') return 'deny_to_allow';
  return 'result_changed';
}
