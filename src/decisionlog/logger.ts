// DecisionLogger: what the server calls once per decision. It runs OPA's per-event pipeline — the drop
// policy, then the mask policy, both with the event as input — and hands the result to the store, so
// nothing unmasked is ever written.
import type { DecisionEvent, DecisionHints } from './event.js';
import { applyMask, shouldDrop } from './mask.js';
import type { DecisionLogStore, RecordResult } from './store.js';

/** The engine's decision function (shared contract, see BRIEF): path like "system/log/mask". */
export type Decide = (path: string, input: unknown) => Promise<{ result?: unknown; decisionId?: string }>;

export interface DecisionLogPolicyOptions {
  evaluate: Decide;
  /**
   * Whether a rule exists at the path in the active policy set. Without one the policy is not evaluated at all
   * (most deployments have neither a drop nor a mask policy); absent, both are always evaluated.
   */
  defined?: (path: string) => boolean;
  /** OPA's decision_logs.drop_decision, default "system/log/drop". */
  dropPath?: string;
  /** OPA's decision_logs.mask_decision, default "system/log/mask". */
  maskPath?: string;
}

/** "refused": the store would not take the event (malformed, or the log is closed); see status(). */
export type LogResult = RecordResult | 'dropped_by_policy' | 'dropped_by_rate' | 'refused';

export interface DecisionLoggerOptions {
  /** OPA's decision_logs.console: called with each event as stored (after drop and mask). */
  console?: (event: DecisionEvent) => void;
  /** OPA's reporting.max_decisions_per_second: events beyond the rate are dropped and counted. */
  maxPerSecond?: number;
}

export interface DecisionLoggerStatus {
  dropped_by_policy: number;
  /** Dropped because reporting.max_decisions_per_second was exceeded. */
  dropped_by_rate: number;
  /** Drop policy failed: the event was kept (OPA would lose it). */
  drop_policy_failures: number;
  /** Mask policy failed or returned garbage: the event was kept with input and result erased. */
  mask_policy_failures: number;
  last_policy_error?: string;
  /** Events the store refused (invalid_event, store_closed). */
  refused: number;
  last_refusal?: string;
}

export class DecisionLogger {
  private readonly counters = { dropped_by_policy: 0, dropped_by_rate: 0, drop_policy_failures: 0, mask_policy_failures: 0, refused: 0 };
  private rate?: TokenBucket;
  private lastPolicyError?: string;
  private lastRefusal?: string;

  constructor(
    private readonly store: DecisionLogStore,
    private policy?: DecisionLogPolicyOptions,
    private options: DecisionLoggerOptions = {},
  ) {
    this.reconfigure(policy, options);
  }

  /** Takes new settings (discovery): events logged from now on follow them; the counters carry on. */
  reconfigure(policy: DecisionLogPolicyOptions | undefined, options: DecisionLoggerOptions): void {
    this.policy = policy;
    this.options = options;
    this.rate = options.maxPerSecond !== undefined ? new TokenBucket(options.maxPerSecond) : undefined;
  }

  /**
   * Logs one decision. In sync durability the promise settles after the commit. It never rejects, so a
   * server may also call it without awaiting (default durability): refusals are counted in status().
   * `hints` are what the decision path already knows about the event (see DecisionHints).
   */
  log(event: DecisionEvent, hints?: DecisionHints): Promise<LogResult> {
    if (this.rate && !this.rate.take()) {
      this.counters.dropped_by_rate++;
      return settled.dropped_by_rate;
    }
    const { dropPath = 'system/log/drop', maskPath = 'system/log/mask' } = this.policy ?? {};
    const drop = this.policy && (this.policy.defined?.(dropPath) ?? true);
    const mask = this.policy && (this.policy.defined?.(maskPath) ?? true);
    if (!drop && !mask) return this.keep(event, hints);
    return this.prepare(event, drop ? dropPath : undefined, mask ? maskPath : undefined).then((prepared) => {
      if (prepared === undefined) {
        this.counters.dropped_by_policy++;
        return 'dropped_by_policy';
      }
      // The input's text describes the input only while the mask left it as it was.
      return this.keep(prepared, prepared.input === event.input ? hints : hints && { tsNs: hints.tsNs });
    });
  }

  private keep(event: DecisionEvent, hints: DecisionHints | undefined): Promise<LogResult> {
    this.options.console?.(event);
    try {
      const result = this.store.accept(event, hints);
      return typeof result === 'string' ? settled[result] : result;
    } catch (error) {
      this.counters.refused++;
      this.lastRefusal = message(error);
      return settled.refused;
    }
  }

  /** Runs the drop and mask policies given: the event to store, or undefined when the drop policy says so. */
  private async prepare(event: DecisionEvent, dropPath: string | undefined, maskPath: string | undefined): Promise<DecisionEvent | undefined> {
    const { evaluate } = this.policy!;
    if (dropPath !== undefined) {
      try {
        if (shouldDrop((await evaluate(dropPath, event)).result)) return undefined;
      } catch (error) {
        this.counters.drop_policy_failures++;
        this.lastPolicyError = `drop policy ${dropPath}: ${message(error)}`;
      }
    }
    if (maskPath === undefined) return event;
    let masked: DecisionEvent;
    try {
      masked = applyMask(event, (await evaluate(maskPath, event)).result);
    } catch (error) {
      // OPA drops an event whose mask fails. An audit log should not lose the decision, nor leak what the
      // mask was meant to hide, so keep the event with everything maskable erased.
      this.counters.mask_policy_failures++;
      this.lastPolicyError = `mask policy ${maskPath}: ${message(error)}`;
      masked = eraseAll(event);
    }
    return masked;
  }

  status(): DecisionLoggerStatus {
    return {
      ...this.counters,
      ...(this.lastPolicyError ? { last_policy_error: this.lastPolicyError } : {}),
      ...(this.lastRefusal ? { last_refusal: this.lastRefusal } : {}),
    };
  }
}

/** Settled promises are immutable: one of each serves every decision. */
const settled = Object.fromEntries(
  (['queued', 'committed', 'dropped', 'dropped_by_policy', 'dropped_by_rate', 'refused'] as const).map((r) => [r, Promise.resolve(r)]),
) as Record<LogResult, Promise<LogResult>>;

/** At most `perSecond` events per second, with a burst of one second's worth (OPA's rate limiter). */
class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly perSecond: number) {
    this.tokens = Math.max(perSecond, 1);
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(Math.max(this.perSecond, 1), this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function eraseAll(event: DecisionEvent): DecisionEvent {
  const erased = [...(event.erased ?? [])];
  const rest: DecisionEvent = { ...event };
  for (const part of ['input', 'result', 'nd_builtin_cache'] as const) {
    if (rest[part] !== undefined) {
      delete rest[part];
      erased.push('/' + part);
    }
  }
  return erased.length > 0 ? { ...rest, erased } : rest;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
