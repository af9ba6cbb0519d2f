// `verdict replay [filters] [--last N] [--format table|json] BUNDLE_PATH...`: the logged decisions that match the
// filters, re-evaluated against candidate bundles (directories or .tar.gz files, Rego or wasm, read as
// `verdict run` reads bundle paths) and reported: how many were replayed, which changed and how. Reads the
// decision log file directly (read-only), so it runs beside a live server or on a copy of its database.
import type { Writable } from 'node:stream';
import { parseBundle, type Bundle } from '../bundle/bundle.js';
import { BundleError, defaultBundleLimits } from '../bundle/files.js';
import { LocalBundleSource } from '../bundle/watch.js';
import { filterOptions, filters, integer, one, openStore, parseArgs, usage, type OpenStore, type ParsedArgs } from '../decisionlog/cli.js';
import { DecisionLogError } from '../decisionlog/errors.js';
import { defaultDatabaseFile } from '../decisionlog/open.js';
import { defaultCompiler } from '../engine/opa-compiler.js';
import { changeKinds, ReplayCandidate, type ReplayReport } from './replay.js';

export const replayUsage = `usage: verdict replay [--db FILE | --config FILE] [filters] [--last N] [--max-listed N] [--format table|json]
                      [--fail-on-change] [--v0-compatible] BUNDLE_PATH...
  re-evaluates the logged decisions that match the filters against the candidate bundles (directories or
  .tar.gz files, Rego or wasm) and reports how many changed: allow→deny, deny→allow, now errors, other results.
  --last N          only the newest N matching decisions
  --max-listed N    changed decisions listed (default 1000; all are counted)
  --fail-on-change  exit code 1 when any decision changed
filters (as verdict decisions search): --since RFC3339 --until RFC3339 --path PREFIX --outcome OUTCOME
  --principal P --principal-prefix P --principal-contains TEXT --revision R --decision-id ID --trace-id ID
  --field input.a.b=VALUE (repeatable)
--db defaults to ${defaultDatabaseFile}; --config reads the store a server's configuration file names (its
  decision_logs.store file, or a collector's central PostgreSQL store)`;

const valueOptions = new Set<string>([...filterOptions, 'config', 'last', 'max-listed', 'format']);
const flagOptions = new Set(['help', 'fail-on-change', 'v0-compatible']);

export interface ReplayIO {
  stdout: Writable;
  stderr: Writable;
}

/** Runs `verdict replay ...` (argv after "replay"); resolves to the exit code. */
export async function runReplayCommand(argv: string[], io: ReplayIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let store: OpenStore | undefined;
  try {
    const parsed = parseArgs(argv, valueOptions, flagOptions);
    if (parsed.options.has('help')) {
      io.stdout.write(replayUsage + '\n');
      return 0;
    }
    if (parsed.positional.length === 0) throw usage('name at least one candidate BUNDLE_PATH');
    const format = one(parsed, 'format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw usage(`--format must be table or json, got ${JSON.stringify(format)}`);
    const selection = {
      filters: filters(parsed),
      ...(parsed.options.has('last') ? { last: integer(parsed, 'last', 0) } : {}),
      maxListed: integer(parsed, 'max-listed', 1000),
    };
    const bundles = await readCandidates(parsed);
    store = await openStore(parsed);
    const candidate = await ReplayCandidate.build(defaultCompiler(), bundles, parsed.options.has('v0-compatible') ? 0 : 1);
    const report = await candidate.replay(store.queries, selection);
    io.stdout.write(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    return parsed.options.has('fail-on-change') && report.changed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof DecisionLogError) {
      io.stderr.write(`verdict replay: ${error.message}\n`);
      if (error.code === 'invalid_query') io.stderr.write(replayUsage + '\n');
      return error.exitCode;
    }
    if (error instanceof BundleError) {
      io.stderr.write(`verdict replay: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await store?.close();
  }
}

/** Each path read and parsed as `verdict run` reads a bundle path (same reader, limits and parser), named by its path. */
async function readCandidates(parsed: ParsedArgs): Promise<Bundle[]> {
  const bundles: Bundle[] = [];
  for (const path of parsed.positional) {
    let bundle: Bundle | undefined;
    const source = new LocalBundleSource(path, path, async (files) => {
      bundle = parseBundle(path, files);
    }, { limits: defaultBundleLimits });
    const status = await source.reload();
    if (!bundle) throw new BundleError(status.lastError ?? `bundle ${path} was not loaded`);
    bundles.push(bundle);
  }
  return bundles;
}

/** The report as text for a terminal. */
export function formatReport(report: ReplayReport): string {
  const lines: string[] = [];
  const reasons = Object.entries(report.not_replayable_by_reason).map(([reason, n]) => `${reason} ${n}`).join(', ');
  lines.push(`candidate: ${report.candidate.map((b) => `${b.name} (revision ${JSON.stringify(b.revision)})`).join(', ')}`);
  lines.push(`replayed ${report.replayed} of ${report.considered} decisions${report.not_replayable ? `; ${report.not_replayable} not replayable (${reasons})` : ''}`);
  if (report.not_replayable_by_reason.credentials_erased) {
    lines.push('  (credentials_erased: the policy saw Authorization or cookie headers the decision log does not store; replaying without them would answer a different question. decision_logs.store.mask_credentials: false stores them.)');
  }
  lines.push(`changed ${report.changed}: ${changeKinds.map((k) => `${k} ${report.by_change[k]}`).join(', ')}`);
  const paths = Object.entries(report.by_path);
  if (paths.length > 0) {
    lines.push('', table(['PATH', 'REPLAYED', 'CHANGED'], paths.map(([path, n]) => [path, String(n.replayed), String(n.changed)])));
  }
  if (report.changes.length > 0) {
    const rows = report.changes.map((c) => [c.decision_id, c.timestamp, c.path, `${c.old.outcome}→${c.new.outcome}`, brief(c.old), brief(c.new)]);
    lines.push('', table(['DECISION', 'TIME', 'PATH', 'OUTCOME', 'OLD', 'NEW'], rows));
    if (report.changes_truncated) lines.push(`(${report.changed - report.changes.length} more changed decisions not listed: raise --max-listed)`);
  }
  return lines.join('\n') + '\n';
}

function brief(side: ReplayReport['changes'][number]['old']): string {
  if (side.error) return `error ${side.error.code}`;
  if (!('result' in side)) return 'undefined';
  const text = JSON.stringify(side.result);
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
