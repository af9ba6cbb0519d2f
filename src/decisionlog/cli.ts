// `verdict decisions tail|search|show|export --db FILE`: reads the decision log file directly, no server
// needed (read-only; WAL lets it run beside a live server). `--config FILE` reads the store a server's
// configuration names instead: a collector's central PostgreSQL store, or the SQLite file.
import { createWriteStream } from 'node:fs';
import { ownerOnlyFileMode, tightenFileSync } from '../fs/owner-only.js';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { DecisionLogError } from './errors.js';
import { defaultDatabaseFile, openDecisionDatabase } from './open.js';
import type { DecisionFilters, StoredDecision } from './query.js';
import { everyDecision, sqliteQueries, type DecisionQueries } from './queries.js';
import { decisionLogSettings } from './config.js';
import { PostgresDecisionStore } from './postgres/store.js';
import { loadConfig } from '../config/config.js';
import { normaliseServices } from '../bundle/service.js';

export interface CommandIO {
  stdout: Writable;
  stderr: Writable;
  /** Ends `tail --follow`. */
  signal?: AbortSignal;
}

export const decisionsUsage = `usage: verdict decisions <command> [--db FILE | --config FILE] [options]
  tail [-n N] [--follow] [--interval-ms MS]   the last N decisions (default 20), oldest first; --follow waits for more
  search [filters] [--limit N] [--cursor C] [--json]   newest first; prints the next cursor on stderr
  show DECISION_ID                             one decision as JSON
  export [filters] [--out FILE]                NDJSON in OPA's decision-log event format, oldest first
filters: --since RFC3339 --until RFC3339 --path PREFIX --outcome allow|deny|undefined|error|other
         --principal P --principal-prefix P --principal-contains TEXT --revision R --decision-id ID
         --trace-id ID --field input.a.b=VALUE (repeatable)
--db defaults to ${defaultDatabaseFile}; --config reads the store a server's configuration file names
(decision_logs.store.postgres for a collector's central store, else decision_logs.store.file)`;

export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
}
type Parsed = ParsedArgs;

/** The options naming which decisions (shared with `verdict replay`). */
export const filterOptions = ['db', 'since', 'until', 'path', 'outcome', 'principal', 'principal-prefix', 'principal-contains', 'revision', 'decision-id', 'trace-id', 'field'] as const;
const valueOptions = new Set([...filterOptions, 'config', 'limit', 'cursor', 'out', 'n', 'interval-ms']);
const flagOptions = new Set(['follow', 'json', 'help']);

/** Runs a `verdict decisions ...` command (argv after "decisions"); resolves to the process exit code. */
export async function runDecisionsCommand(argv: string[], io: CommandIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let store: OpenStore | undefined;
  try {
    const [command, ...rest] = argv;
    const parsed = parseArgs(rest, valueOptions, flagOptions);
    if (command === undefined || command === 'help' || parsed.options.has('help')) {
      io.stdout.write(decisionsUsage + '\n');
      return command === undefined ? 2 : 0;
    }
    if (!['tail', 'search', 'show', 'export'].includes(command)) throw usage(`unknown command ${JSON.stringify(command)}`);
    store = await openStore(parsed);
    const queries = store.queries;
    switch (command) {
      case 'show':
        return await show(queries, parsed, io);
      case 'search':
        return await search(queries, parsed, io);
      case 'export':
        return await exportCommand(queries, parsed, io);
      default:
        return await tail(queries, parsed, io);
    }
  } catch (error) {
    if (error instanceof DecisionLogError) {
      io.stderr.write(`verdict decisions: ${error.message}\n`);
      if (error.code === 'invalid_query') io.stderr.write(decisionsUsage + '\n');
      return error.exitCode;
    }
    throw error;
  } finally {
    await store?.close();
  }
}

export interface OpenStore {
  queries: DecisionQueries;
  close(): Promise<void>;
}

/** --db FILE (default), or the store --config FILE names. */
export async function openStore(parsed: Parsed): Promise<OpenStore> {
  const configFile = one(parsed, 'config');
  let file = one(parsed, 'db');
  if (configFile !== undefined) {
    if (file !== undefined) throw usage('give --db or --config, not both');
    const config = await loadConfig(configFile);
    const settings = decisionLogSettings(config.decision_logs, normaliseServices(config.services as Parameters<typeof normaliseServices>[0]).map((s) => s.name));
    if (settings.central) {
      const central = new PostgresDecisionStore({ ...settings.central, poolSize: 1 });
      return { queries: central, close: () => central.close() };
    }
    file = settings.store.file;
  }
  const db = openDecisionDatabase(file ?? defaultDatabaseFile, { readonly: true });
  return { queries: sqliteQueries(db), close: async () => void db.close() };
}

/** `--name VALUE`, `--name=VALUE` (repeatable) and `--flag`; anything else unknown is refused by name. */
export function parseArgs(args: string[], valueOptions: ReadonlySet<string>, flagOptions: ReadonlySet<string>): Parsed {
  const parsed: Parsed = { positional: [], options: new Map() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) {
      parsed.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
    if (flagOptions.has(name) && inline === undefined) parsed.options.set(name, ['true']);
    else if (valueOptions.has(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw usage(`option --${name} needs a value`);
      parsed.options.set(name, [...(parsed.options.get(name) ?? []), value]);
    } else throw usage(`unknown option ${arg}`);
  }
  return parsed;
}

export function one(parsed: Parsed, name: string): string | undefined {
  const values = parsed.options.get(name);
  if (values && values.length > 1) throw usage(`option --${name} may be given once`);
  return values?.[0];
}

export function integer(parsed: Parsed, name: string, fallback: number): number {
  const text = one(parsed, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw usage(`option --${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function filters(parsed: Parsed): DecisionFilters {
  const f: DecisionFilters = {};
  for (const [option, key] of [['since', 'since'], ['until', 'until'], ['path', 'path'], ['outcome', 'outcome'], ['principal', 'principal'], ['principal-prefix', 'principal_prefix'], ['principal-contains', 'principal_contains'], ['revision', 'revision'], ['decision-id', 'decision_id'], ['trace-id', 'trace_id']] as const) {
    const value = one(parsed, option);
    if (value !== undefined) f[key] = value;
  }
  for (const field of parsed.options.get('field') ?? []) {
    const eq = field.indexOf('=');
    if (eq < 1) throw usage(`--field must look like input.a.b=VALUE, got ${JSON.stringify(field)}`);
    f.fields = { ...f.fields, [field.slice(0, eq)]: field.slice(eq + 1) };
  }
  return f;
}

async function show(queries: DecisionQueries, parsed: Parsed, io: CommandIO): Promise<number> {
  if (parsed.positional.length !== 1) throw usage('show needs exactly one DECISION_ID');
  const found = await queries.find(parsed.positional[0]);
  if (!found) {
    io.stderr.write(`verdict decisions: decision ${parsed.positional[0]} is not in the decision log\n`);
    return 1;
  }
  io.stdout.write(JSON.stringify(found.event, null, 2) + '\n');
  return 0;
}

async function search(queries: DecisionQueries, parsed: Parsed, io: CommandIO): Promise<number> {
  noPositional(parsed);
  const cursor = one(parsed, 'cursor');
  const page = await queries.query({ ...filters(parsed), limit: integer(parsed, 'limit', 20), ...(cursor ? { cursor } : {}) });
  const json = parsed.options.has('json');
  for (const decision of page.decisions) io.stdout.write((json ? JSON.stringify(decision.event) : line(decision)) + '\n');
  if (page.next_cursor) io.stderr.write(`more: --cursor ${page.next_cursor}\n`);
  return 0;
}

async function exportCommand(queries: DecisionQueries, parsed: Parsed, io: CommandIO): Promise<number> {
  noPositional(parsed);
  const file = one(parsed, 'out');
  const out = file ? exportFile(file) : io.stdout;
  for await (const decision of everyDecision(queries, filters(parsed))) {
    if (!out.write(JSON.stringify(decision.event) + '\n')) await once(out, 'drain');
  }
  if (file) {
    out.end();
    await once(out, 'finish');
  }
  return 0;
}

/** Exported decisions are audit data: the file is owner-only, also when it existed before. */
function exportFile(file: string): NodeJS.WritableStream {
  tightenFileSync(file);
  return createWriteStream(file, { mode: ownerOnlyFileMode });
}

async function tail(queries: DecisionQueries, parsed: Parsed, io: CommandIO): Promise<number> {
  noPositional(parsed);
  const f = filters(parsed);
  const last = (await queries.query({ ...f, limit: integer(parsed, 'n', 20) })).decisions.reverse();
  for (const decision of last) io.stdout.write(line(decision) + '\n');
  if (!parsed.options.has('follow')) return 0;
  const interval = integer(parsed, 'interval-ms', 500);
  let after = last.length > 0 ? last[last.length - 1].seq : await queries.newestSeq();
  while (!io.signal?.aborted) {
    await sleep(interval, io.signal);
    for await (const decision of everyDecision(queries, f, after)) {
      io.stdout.write(line(decision) + '\n');
      after = decision.seq;
    }
  }
  return 0;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake);
  });
}

function line(decision: StoredDecision): string {
  const e = decision.event;
  return [e.timestamp, decision.outcome.padEnd(9), (decision.principal ?? '-').padEnd(16), e.path ?? e.query ?? '-', e.decision_id].join('  ');
}

function noPositional(parsed: Parsed): void {
  if (parsed.positional.length > 0) throw usage(`unexpected argument ${JSON.stringify(parsed.positional[0])}`);
}

export function usage(message: string): DecisionLogError {
  return new DecisionLogError('invalid_query', message);
}
