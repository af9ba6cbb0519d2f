// `verdict fmt [-l|-d|-w] [--fail] [--v0-compatible] [--drop-v0-imports] [PATH...]`: formats Rego files (or stdin) as `opa fmt`
// does, through Verdict's parser and the printer in src/compiler/format/. Exit codes and messages follow OPA's:
// 1 for a bad flag, a missing path or unparsable stdin, 2 for a file that does not parse or (with --fail) a file
// that would change.
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSource, type FormatOptions } from '../compiler/format/format.js';
import { parseModule } from '../compiler/parse-module.js';
import { formatRegoError, type RegoError } from '../compiler/errors.js';
import { FlagError, flagsHelp, parseFlags, regoVersionFlag, type FlagGroup, type FlagSpec } from './flags.js';
import { prettyDiff } from './fmt-diff.js';
import { goErrorList } from './go-format.js';
import { capabilitiesFlag, capabilitiesOption } from './capabilities-flag.js';

const fmtFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      list: { type: 'boolean', short: 'l', help: 'list all files who would change when formatted' },
      diff: { type: 'boolean', short: 'd', help: 'only display a diff of the changes' },
      write: { type: 'boolean', short: 'w', help: 'overwrite the original source file' },
      fail: { type: 'boolean', help: 'non zero exit code on reformat' },
      'v0-compatible': { type: 'boolean', help: 'parse and format modules as Rego v0' },
      'drop-v0-imports': { type: 'boolean', help: "drop v0 imports from the formatted code, such as 'rego.v1' and 'future.keywords'" },
      ...capabilitiesFlag,
      'check-result': { type: 'boolean', help: 'assert that the formatted code is valid and can be successfully parsed (default true)' },
      help: { type: 'boolean', short: 'h', help: 'print this help' },
    },
  },
  {
    title: 'Refused',
    flags: {
      'v0-v1': { type: 'boolean', help: '', refused: 'formatting for both Rego versions at once is not implemented by verdict fmt' },
    },
  },
];

export function fmtHelp(): string {
  return flagsHelp(['usage: verdict fmt [flags] [PATH...]', '', 'Formats Rego source files as opa fmt does: to stdout, or with -l, -d or -w. Reads stdin when no PATH is given.'], fmtFlags);
}

/** OPA (cobra) names an unknown flag before anything else; node's parser words it differently. */
function unknownFlag(args: string[]): string | undefined {
  const specs = Object.assign({}, ...fmtFlags.map((g) => g.flags)) as Record<string, FlagSpec>;
  const shorts = new Set(Object.values(specs).map((s) => s.short).filter(Boolean));
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0];
      if (!(name in specs)) return `unknown flag: --${name}`;
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (const c of arg.slice(1)) if (!shorts.has(c)) return `unknown shorthand flag: '${c}' in ${arg}`;
    }
  }
  return undefined;
}

class FmtFailure extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

function errorText(errors: RegoError[]): string {
  return goErrorList(errors.map((e) => formatRegoError(e)));
}

/** The .rego files under a path, in lexical order (as Go's filepath.Walk visits them); other files are skipped. */
function regoFiles(path: string): string[] {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    throw new FmtFailure(`lstat ${path}: no such file or directory`, 1);
  }
  if (stat.isDirectory()) return readdirSync(path).sort().flatMap((name) => regoFiles(join(path, name)));
  return path.endsWith('.rego') ? [path] : [];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs the subcommand; returns the process exit code. */
export async function fmtCommand(args: string[]): Promise<number> {
  const unknown = unknownFlag(args);
  let parsed;
  try {
    if (unknown) throw new FlagError(unknown);
    parsed = parseFlags(args, fmtFlags);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    console.error(`Error: ${err.message}\n${fmtHelp()}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(fmtHelp());
    return 0;
  }
  const version = regoVersionFlag(values);
  let capabilities;
  try {
    capabilities = capabilitiesOption(values);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    console.error(`Error: ${err.message}`);
    return 1;
  }
  // As opa fmt, modules are read with the current version's features whatever the capabilities say; only the
  // printing of keywords in refs follows them.
  const options = { dropV0Imports: values['drop-v0-imports'] === true, keywordsInRefs: capabilities.features?.has('keywords_in_refs') ?? true };
  if (positionals.length === 0) {
    const result = formatSource('stdin', await readStdin(), version, options);
    if (result.text === undefined) {
      console.error(errorText(result.errors));
      return 1;
    }
    process.stdout.write(result.text);
    return 0;
  }
  try {
    for (const file of positionals.flatMap((p) => regoFiles(p))) formatFile(file, values, version, options);
  } catch (err) {
    if (!(err instanceof FmtFailure)) throw err;
    console.error(err.message);
    return err.exitCode;
  }
  return 0;
}

function formatFile(file: string, values: Record<string, unknown>, version: 'v0' | 'v1', options: FormatOptions): void {
  const source = readFileSync(file, 'utf8');
  const result = formatSource(file, source, version, options);
  if (result.text === undefined) throw new FmtFailure(`failed to format Rego source file: ${errorText(result.errors)}`, 2);
  // The printer writes what opa fmt writes, including text the parser refuses (a template string's control
  // characters quoted as Go quotes them); OPA then reports the file rather than writing it.
  const invalid = values['check-result'] === false ? [] : parseModule('formatted', result.text, { regoVersion: version }).errors;
  if (invalid.length > 0) {
    throw new FmtFailure(`${file} was successfully formatted, but the result is invalid: ${errorText(invalid)}\n\nTo inspect the formatted Rego, you can turn off this check with --check-result=false.`, 2);
  }
  const changed = result.text !== source;
  if (values.list || values.diff || values.write) {
    if (!changed) return;
    if (values.list) process.stdout.write(`${file}\n`);
    if (values.diff) process.stdout.write(`${prettyDiff(source, result.text)}\n`);
    if (values.fail) throw new FmtFailure('unexpected diff', 2);
    if (values.write) writeFileSync(file, result.text);
    return;
  }
  if (values.fail && changed) throw new FmtFailure('unexpected diff', 2);
  process.stdout.write(result.text);
}
