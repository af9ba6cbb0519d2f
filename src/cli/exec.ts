// `verdict exec [flags] PATH...`, as `opa exec`: evaluates one decision against each input file (a directory is
// walked for .json, .yaml and .yml files, in name order) and prints {"result":[{"decision_id","path","result"} or
// {"path","error"}, …]}. The decision is compiled once through `verdict eval`'s path (prepareQuery) and run per input.
// What OPA's exec does around the evaluation (discovery, bundle download, status and decision-log plugins from a
// config file) is not run, so the flags that configure it are refused.
import { randomUUID } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseYamlAsOpa } from '../json/yaml.js';
import { logFormats } from '../log/logger.js';
import { choiceFlag, FlagError, flagsHelp, parseCommandLine, regoVersionFlag, sharedFlags, type FlagGroup, type FlagValues } from './flags.js';
import { goJson } from './go-format.js';
import { errorsText, prepareQuery, type EvalOutput, type PreparedQuery } from './eval.js';


const INPUT_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);
const DEFAULT_DECISION = '/system/main';
const FAIL_FLAGS = ['fail', 'fail-defined', 'fail-non-empty'] as const;
const NO_PLUGINS = 'verdict exec evaluates the bundles given with -b; it runs no plugins (discovery, bundle download, status, decision logs)';

const execFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      bundle: { type: 'string', short: 'b', multiple: true, value: 'PATH', help: 'bundle directory or .tar.gz file; repeatable' },
      decision: { type: 'string', value: 'PATH', help: `the decision to evaluate, as a slash-separated path under data (default ${DEFAULT_DECISION})` },
      'stdin-input': { type: 'boolean', short: 'I', help: 'also evaluate the input document read from stdin (listed first, as path --stdin-input)' },
      fail: { type: 'boolean', help: 'exit 1 when a result is undefined or an input failed' },
      'fail-defined': { type: 'boolean', help: 'exit 1 when a result is defined or an input failed' },
      'fail-non-empty': { type: 'boolean', help: 'exit 1 when a result is defined and not an empty array, or an input failed' },
      format: { type: 'string', short: 'f', default: 'json', value: 'FORMAT', help: 'output format: json (the only one)' },
      'log-level': { type: 'string', short: 'l', default: 'error', value: 'LEVEL', help: 'error (the only level verdict exec logs at)' },
      'log-format': { type: 'string', default: 'json', value: 'FORMAT', help: `format of the error log on stderr: ${logFormats.join(', ')} (default json)` },
      'v0-compatible': sharedFlags['v0-compatible'],
      help: sharedFlags.help,
    },
  },
  {
    title: 'Refused',
    flags: {
      'config-file': { type: 'string', short: 'c', help: '', refused: NO_PLUGINS },
      set: { type: 'string', multiple: true, help: '', refused: NO_PLUGINS },
      'set-file': { type: 'string', multiple: true, help: '', refused: NO_PLUGINS },
      timeout: { type: 'string', help: '', refused: 'a compiled policy runs to completion: Verdict cannot stop an evaluation part way' },
      'log-timestamp-format': { type: 'string', help: '', refused: 'error log lines carry RFC 3339 timestamps only' },
    },
  },
];

export function execHelp(): string {
  return flagsHelp(
    [
      'usage: verdict exec [flags] PATH...',
      '',
      "Evaluates a decision against each input file with Verdict's compiler and engine, as opa exec does. A directory",
      'is walked for .json, .yaml and .yml files. Prints {"result":[{"decision_id","path","result"} or {"path","error"}]};',
      'an undefined decision is an opa_undefined_error entry. Exit code: 0; 1 when a path cannot be read, the bundles',
      'do not load or compile, or a --fail* flag finds failures or errors; 2 for a bad or refused flag.',
    ],
    execFlags,
  );
}

/** The outcome for one input: a defined result or an error, in OPA's exec shape. */
type Entry = { decision_id: string; path: string; result: unknown } | { path: string; error: object | object[] };

/** An error that ends the command: logged to stderr as OPA logs "Unexpected error.", exit code 1. */
class ExecError extends Error {}

export async function execCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, {
    name: 'exec',
    groups: execFlags,
    help: execHelp,
    formats: ['json'],
    validate: (values) => {
      choiceFlag(values, 'log-format', logFormats);
      if (values['log-level'] !== 'error') throw new FlagError(`--log-level ${String(values['log-level'])} is not supported: verdict exec logs errors only (--log-level error)`);
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const log = errorLog(values['log-format'] as (typeof logFormats)[number]);
  try {
    const entries = await execute(values, positionals);
    process.stdout.write(`${goJson({ result: entries }, 2)}\n`);
    const failure = failureText(values, entries);
    if (failure) log(failure);
    return failure ? 1 : 0;
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    log(err.message);
    return 1;
  }
}

async function execute(values: FlagValues, positionals: string[]): Promise<Entry[]> {
  if (values.fail && values['fail-defined']) throw new ExecError('exec error: specify --fail or --fail-defined but not both');
  const other = FAIL_FLAGS.find((f) => f !== 'fail-non-empty' && values[f]);
  if (values['fail-non-empty'] && other) throw new ExecError(`exec error: specify --fail-non-empty or --${other} but not both`);
  if (positionals.length === 0 && !values['stdin-input']) throw new ExecError('requires at least 1 path arg, or the --stdin-input flag');
  const inputs: Array<{ path: string; text: () => Promise<string> }> = [];
  if (values['stdin-input']) {
    const text = readFileSync(0, 'utf8');
    if (text.trim() === '') throw new ExecError('exec error: cannot execute on empty input; please enter valid json or yaml when using the --stdin-input flag');
    inputs.push({ path: '--stdin-input', text: async () => text });
  }
  for (const root of positionals) for (const path of await inputFiles(root)) inputs.push({ path, text: () => readFile(path, 'utf8') });
  // An empty --decision is the default one, as in OPA.
  const decision = (values.decision as string | undefined) || DEFAULT_DECISION;
  const prepared = await prepareQuery({ dataPaths: [], bundlePaths: (values.bundle as string[] | undefined) ?? [], query: decisionQuery(decision), regoVersion: regoVersionFlag(values) });
  // Errors in the decision's query alone (file ''), such as a type error, OPA reports for each input; errors in
  // the bundles end the command.
  if (!('run' in prepared) && (!prepared.errors?.length || prepared.errors.some((e) => e.location?.file !== ''))) throw new ExecError(errorsText(prepared.errors ?? []));
  const entries: Entry[] = [];
  for (const { path, text } of inputs) entries.push(await evaluateOne(prepared, decision, path, text));
  return entries;
}

async function evaluateOne(prepared: PreparedQuery | EvalOutput, decision: string, path: string, text: () => Promise<string>): Promise<Entry> {
  let input: unknown;
  try {
    const source = await text();
    // OPA reads every input as YAML (JSON included); an empty file is no input at all.
    input = source.trim() === '' ? undefined : parseYamlAsOpa(source);
  } catch (err) {
    // OPA prints an unreadable input's error as {}; the reason goes to stderr so it is not lost.
    process.stderr.write(`${path}: ${(err as Error).message.split('\n')[0]}\n`);
    return { path, error: {} };
  }
  if (!('run' in prepared)) return { path, error: prepared.errors! };
  const out: EvalOutput = await prepared.run({ input });
  if (out.errors) {
    const { code, message, location } = out.errors[0]!;
    return { path, error: { code, message, ...(location ? { location } : {}) } };
  }
  const row = out.result?.[0];
  if (!row) return { path, error: { code: 'opa_undefined_error', message: `${decision} decision was undefined` } };
  return { decision_id: randomUUID(), path, result: row.expressions[0]!.value };
}

/** The files under a path argument, as Go's filepath.Walk visits them: names sorted, only input extensions. */
async function inputFiles(root: string): Promise<string[]> {
  const info = await lstat(root).catch((err: NodeJS.ErrnoException) => {
    throw new ExecError(`exec error: lstat ${root}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  if (!info.isDirectory()) return INPUT_EXTENSIONS.has(extname(root)) ? [root] : [];
  const names = (await readdir(root)).sort();
  const found: string[] = [];
  for (const name of names) found.push(...(await inputFiles(join(root, name))));
  return found;
}

/**
 * `p/allow` → `data["p"]["allow"]`: each segment quoted, so any name (a keyword, `x-y`) is one key. As in OPA, one
 * leading slash is dropped and other empty segments are keys too (`p/allow/` asks for `data.p.allow[""]`).
 */
function decisionQuery(decision: string): string {
  const path = decision.replace(/^\//, '');
  if (path === '') return 'data';
  return `data${path.split('/').map((s) => `[${JSON.stringify(s)}]`).join('')}`;
}

/** OPA's message when a --fail* flag finds failures or errors, else undefined. */
function failureText(values: FlagValues, entries: Entry[]): string | undefined {
  const flag = FAIL_FLAGS.find((f) => values[f]);
  if (!flag) return undefined;
  const undefinedError = (e: Entry) => 'error' in e && (e.error as { code?: string }).code === 'opa_undefined_error';
  const errors = entries.filter((e) => 'error' in e && (flag === 'fail' || !undefinedError(e))).length;
  const failures = entries.filter((e) => 'result' in e && (flag === 'fail-defined' || (flag === 'fail-non-empty' && !(Array.isArray(e.result) && e.result.length === 0)))).length;
  if (failures + errors === 0) return undefined;
  return `exec error: there were ${failures} failures and ${errors} errors counted in the results list, and --${flag} is set`;
}

/** Writes a fatal error as OPA's logger does ("Unexpected error." at level error) in the chosen format. */
function errorLog(format: (typeof logFormats)[number]): (message: string) => void {
  return (message) => {
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const line = { err: message, level: 'error', msg: 'Unexpected error.', time };
    if (format === 'text') process.stderr.write(`time=${JSON.stringify(time)} level=error msg="Unexpected error." err=${JSON.stringify(message)}\n`);
    else process.stderr.write(`${goJson(line, format === 'json-pretty' ? 2 : undefined)}\n`);
  };
}
