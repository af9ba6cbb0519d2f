// The impact of a bundle upload, before it is served: `PUT /v1/bundles/{name}?dry_run=true` reads, verifies and
// compiles the upload as a real one would, replays logged decisions against the resulting set (the active bundles
// with this one in place) and answers the report without activating anything. `admin_api.impact_gate` makes
// every real upload pass the same replay first and refuses it (409, report included) when too many decisions
// would change. The admin API calls this before its upload; everything else about uploads stays there.
import type { Request, Response } from 'express';
import type { Bundle } from '../bundle/bundle.js';
import { ConfigError, type VerdictConfig } from '../config/config.js';
import type { DecisionFilters } from '../decisionlog/query.js';
import type { DecisionLogStore } from '../decisionlog/store.js';
import { sqliteQueries } from '../decisionlog/queries.js';
import { outcomeClassifier, type OutcomeClassifier } from '../decisionlog/outcome.js';
import type { RegoCompiler } from '../engine/compiler.js';
import { ReplayCandidate, type ReplayReport, type ReplaySelection } from './replay.js';

/** `admin_api.impact_gate`. */
export interface ImpactGateConfig {
  last?: number;
  path?: string;
  max_changed?: number;
  max_changed_ratio?: number;
}

export interface UploadImpactOptions {
  compiler: RegoCompiler;
  /** The server's default Rego version for bundles that do not name one. */
  regoVersion?: 0 | 1;
  /** The decision log; absent, a dry run compiles and verifies but has nothing to replay. */
  store?: Pick<DecisionLogStore, 'db'>;
  /** decision_logs.store.outcome_paths, so old and new outcomes are classified alike. */
  outcomePaths?: string[];
  gate?: ImpactGateConfig;
}

/** The upload the admin API received, and how to build the set it would make (no side effects). */
export interface PendingUpload {
  name: string;
  candidate: () => Promise<Bundle[]>;
}

/** Answers the request itself (dry run, gate refusal, bad parameter) and returns true, or false to go on uploading. */
export type UploadImpactHook = (req: Request, res: Response, upload: PendingUpload) => Promise<boolean>;

const defaultLast = 1000;
const maxLast = 1_000_000;
const replayParams = ['last', 'since', 'until', 'path'] as const;

/** The hook for a server's configuration: its compiler, decision log and `admin_api.impact_gate`. */
export function uploadImpactFor(config: VerdictConfig, compiler: RegoCompiler, store: UploadImpactOptions['store'], regoVersion?: 0 | 1): UploadImpactHook {
  const gate = (config.admin_api as { impact_gate?: ImpactGateConfig } | undefined)?.impact_gate;
  const outcomePaths = (config.decision_logs as { store?: { outcome_paths?: string[] } } | undefined)?.store?.outcome_paths;
  return uploadImpactHook({ compiler, store, regoVersion, ...(gate ? { gate } : {}), ...(outcomePaths ? { outcomePaths } : {}) });
}

export function uploadImpactHook(options: UploadImpactOptions): UploadImpactHook {
  const { gate } = options;
  if (gate && !options.store) throw new ConfigError('admin_api.impact_gate replays logged decisions: it needs the decision log (decision_logs.store)');
  if (gate && gate.max_changed === undefined && gate.max_changed_ratio === undefined) {
    throw new ConfigError('admin_api.impact_gate needs max_changed or max_changed_ratio');
  }
  const classify = outcomeClassifier(options.outcomePaths ? { paths: options.outcomePaths } : undefined);

  const replay = async (upload: PendingUpload, selection: ReplaySelection): Promise<{ bundle?: Bundle; report?: ReplayReport }> => {
    const bundles = await upload.candidate();
    const candidate = await ReplayCandidate.build(options.compiler, bundles, options.regoVersion ?? 1);
    const bundle = bundles.find((b) => b.name === upload.name);
    if (!options.store) return { bundle };
    return { bundle, report: await candidate.replay(sqliteQueries(options.store.db), selection, classify) };
  };

  return async (req, res, upload) => {
    const query = req.query as Record<string, unknown>;
    for (const [name, value] of Object.entries(query)) {
      if (typeof value !== 'string') return refuse(res, `query parameter ${name} must be given once, as a plain value`);
      if (name !== 'dry_run' && !(replayParams as readonly string[]).includes(name)) {
        return refuse(res, `unknown query parameter ${name}; an upload takes dry_run, and with it ${replayParams.join(', ')}`);
      }
    }
    const dryRun = query.dry_run === undefined ? false : flag(query.dry_run as string);
    if (dryRun === undefined) return refuse(res, `dry_run must be true or false, got ${JSON.stringify(query.dry_run)}`);
    const given = replayParams.filter((p) => query[p] !== undefined);
    if (!dryRun && given.length > 0) return refuse(res, `${given[0]} chooses the decisions a dry run replays: add dry_run=true`);

    if (dryRun) {
      const selection = selectionFrom(query as Record<string, string>);
      if (typeof selection === 'string') return refuse(res, selection);
      const { bundle, report } = await replay(upload, selection);
      res.json({
        result: {
          dry_run: true,
          name: upload.name,
          revision: bundle?.manifest.revision ?? '',
          activated: false,
          ...(report ? { report } : { message: 'the decision log is off: the bundle was verified and compiled, no decisions were replayed' }),
        },
      });
      return true;
    }
    if (!gate) return false;
    // The uploader may lack decisions:read: the refusal counts what would change but lists no decision.
    const { report } = await replay(upload, { last: gate.last ?? defaultLast, ...(gate.path ? { filters: { path: gate.path } } : {}), maxListed: 0 });
    const over = exceeded(gate, report!);
    if (!over) return false;
    res.status(409).json({ code: 'resource_conflict', message: `bundle ${upload.name} was not activated: admin_api.impact_gate: ${over} (a dry run lists them)`, report });
    return true;
  };
}

function refuse(res: Response, message: string): true {
  res.status(400).json({ code: 'invalid_parameter', message });
  return true;
}

function flag(value: string): boolean | undefined {
  if (value === '' || value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** ?last=N, or a since/until window (then every decision in it), and an optional path prefix; or the error. */
function selectionFrom(query: Record<string, string>): ReplaySelection | string {
  const filters: Omit<DecisionFilters, 'limit' | 'cursor' | 'order'> = {};
  for (const key of ['since', 'until', 'path'] as const) if (query[key] !== undefined) filters[key] = query[key];
  let last: number | undefined;
  if (query.last !== undefined) {
    if (!/^\d+$/.test(query.last) || Number(query.last) < 1 || Number(query.last) > maxLast) return `last must be an integer from 1 to ${maxLast}, got ${JSON.stringify(query.last)}`;
    last = Number(query.last);
  } else if (filters.since === undefined && filters.until === undefined) last = defaultLast;
  return { filters, ...(last !== undefined ? { last } : {}) };
}

/** Why the gate refuses, or undefined when the change is within bounds. */
function exceeded(gate: ImpactGateConfig, report: ReplayReport): string | undefined {
  const summary = `${report.changed} of ${report.replayed} replayed decisions would change`;
  if (gate.max_changed !== undefined && report.changed > gate.max_changed) return `${summary} (max_changed ${gate.max_changed})`;
  if (gate.max_changed_ratio !== undefined && report.replayed > 0 && report.changed / report.replayed > gate.max_changed_ratio) {
    return `${summary} (max_changed_ratio ${gate.max_changed_ratio})`;
  }
  return undefined;
}
