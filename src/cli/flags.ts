// The command line of every verdict subcommand: OPA's flags (pflag conventions: `--name value`, `--name=value`,
// `-n value`, booleans as `--name` or `--name=true|false`) described as tables of FlagSpec. Each flag either works
// or is refused by name with the reason; an unknown flag is refused by the parser, naming it.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RegoVersion } from '../compiler/ast.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable; each value kept (OPA's stringArray). */
  multiple?: boolean;
  /** Repeatable and comma-separated, as OPA's `strings` flags (`--ignore a,b --ignore c`). */
  commaList?: boolean;
  default?: string;
  /** Placeholder for the value in the help text. */
  value?: string;
  help: string;
  /** Set on flags Verdict refuses: why, printed when the flag is given. */
  refused?: string;
}

export type FlagGroup = { title: string; flags: Record<string, FlagSpec> };

export class FlagError extends Error {
  /** The exit code: 2 for a bad command line, unless the flag's OPA counterpart fails otherwise. */
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Parses a subcommand's arguments; throws FlagError naming the flag for a refused or malformed one. */
export function parseFlags(args: string[], groups: FlagGroup[]): { values: FlagValues; positionals: string[] } {
  const specs = Object.assign({}, ...groups.map((g) => g.flags)) as Record<string, FlagSpec>;
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple || spec.commaList ? { multiple: true } : {}), ...(spec.default !== undefined ? { default: spec.default } : {}) };
  }
  const { rest, falses } = pflagForms(args, specs);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options, strict: true });
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  const values = { ...parsed.values } as FlagValues;
  for (const name of falses) values[name] = false;
  for (const [name, spec] of Object.entries(specs)) {
    if (values[name] === undefined || values[name] === false) continue;
    if (spec.refused) throw new FlagError(`--${name} is not supported: ${spec.refused}`);
    if (spec.commaList) values[name] = (values[name] as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
  }
  return { values, positionals: parsed.positionals };
}

/**
 * The forms pflag reads that node's parser does not: `--flag=true` and `--flag=false` for boolean flags,
 * `-f=value`, and a value starting with a dash after a flag that takes one (`-m -1`).
 */
function pflagForms(args: string[], specs: Record<string, FlagSpec>): { rest: string[]; falses: string[] } {
  const rest: string[] = [];
  const falses: string[] = [];
  const takesValue = (arg: string): string | undefined => {
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    if (long !== undefined) return specs[long]?.type === 'string' ? long : undefined;
    const short = /^-([^-=])$/.exec(arg)?.[1];
    return Object.entries(specs).find(([, s]) => short !== undefined && s.short === short && s.type === 'string')?.[0];
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    const name = takesValue(arg);
    if (name !== undefined && args[i + 1]?.startsWith('-')) {
      rest.push(`--${name}=${args[++i]!}`);
      continue;
    }
    // pflag reads `-f=json` as `-f json`; node's parser would take "=json" as the value.
    const short = /^-([^-=])=(.*)$/.exec(arg);
    const shortName = short && Object.entries(specs).find(([, s]) => s.short === short[1] && s.type === 'string')?.[0];
    if (shortName) {
      rest.push(`--${shortName}=${short[2]!}`);
      continue;
    }
    const m = /^--([^=]+)=(.*)$/.exec(arg);
    if (!m || specs[m[1]!]?.type !== 'boolean') {
      rest.push(arg);
      continue;
    }
    if (m[2] === 'true') rest.push(`--${m[1]}`);
    else if (m[2] === 'false') falses.push(m[1]!);
    else throw new FlagError(`--${m[1]}=${m[2]}: expected true or false`);
  }
  return { rest, falses };
}

/** An integer number of seconds (`--shutdown-grace-period 5`), as OPA's int flags take it. */
export function secondsFlag(values: FlagValues, name: string): number | undefined {
  const text = values[name] as string | undefined;
  if (text === undefined) return undefined;
  if (!/^[+-]?[0-9]+$/.test(text.trim())) throw new FlagError(`--${name} ${text}: expected a whole number of seconds`);
  return Number(text);
}

/** A flag whose value must be one of `allowed` (the message names them: `pretty or json`, `one of a, b, c`). */
export function choiceFlag<T extends string>(values: FlagValues, name: string, allowed: readonly T[]): T {
  const text = values[name] as string;
  if (!allowed.includes(text as T)) throw new FlagError(`--${name} ${text}: expected ${allowed.length === 2 ? allowed.join(' or ') : `one of ${allowed.join(', ')}`}`);
  return text as T;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`5s`, `1m30s`, `250ms`) in milliseconds, as OPA's duration flags take it. */
export function durationFlag(values: FlagValues, name: string): number | undefined {
  const text = values[name] as string | undefined;
  if (text === undefined) return undefined;
  if (text === '0') return 0;
  const parts = [...text.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new FlagError(`--${name} ${text}: expected a duration such as 5s, 250ms or 1m30s`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

/** A command's help: its header lines, then each group of flags. */
export function flagsHelp(header: string[], groups: FlagGroup[]): string {
  const lines = [...header];
  for (const group of groups) {
    lines.push('', `${group.title}:`);
    for (const [name, spec] of Object.entries(group.flags)) {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
      lines.push(`  ${flag.padEnd(40)} ${spec.refused ? `refused: ${spec.refused}` : spec.help}`);
    }
  }
  return lines.join('\n');
}

/** `-S, --strict`, which `verdict check` and `verdict eval` take as `opa check` and `opa eval` do. */
export const strictFlag = {
  strict: { type: 'boolean', short: 'S', help: 'enable compiler strict mode (unused imports, assignments and arguments; v1 checks for v0 modules)' },
} satisfies Record<string, FlagSpec>;

/** Flags several commands take with one meaning. */
export const sharedFlags = {
  bundle: { type: 'boolean', short: 'b', help: 'load the paths as bundle directories or .tar.gz files' },
  ignore: { type: 'string', commaList: true, value: 'GLOB', help: "skip files and directories with these names while loading (e.g. '.*')" },
  'v0-compatible': { type: 'boolean', help: 'parse modules as Rego v0' },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
} satisfies Record<string, FlagSpec>;

/** The Rego version a command parses modules as: v1 unless --v0-compatible (sharedFlags). */
export function regoVersionFlag(values: FlagValues): RegoVersion {
  return values['v0-compatible'] ? 'v0' : 'v1';
}

/** `-s/--schema` of the commands that type-check with JSON schemas (check, eval, test, bench), as OPA's. */
export const schemaFlag = {
  schema: { type: 'string', short: 's', value: 'PATH', help: 'JSON schema file for input, or a directory of schema documents that annotations refer to (schema.NAME)' },
} satisfies Record<string, FlagSpec>;

/** The flags that give a query its policies, data, input and context (`verdict eval`, `verdict bench`). */
export const queryFlags = {
  data: { type: 'string', short: 'd', multiple: true, value: 'PATH', help: 'policy or data file or directory (prefix:PATH puts data under data.prefix); repeatable' },
  bundle: { type: 'string', short: 'b', multiple: true, value: 'PATH', help: 'bundle directory or .tar.gz file; repeatable' },
  input: { type: 'string', short: 'i', value: 'FILE', help: 'input document (JSON or YAML file)' },
  'stdin-input': { type: 'boolean', short: 'I', help: 'read the input document from stdin' },
  stdin: { type: 'boolean', help: 'read the query from stdin' },
  import: { type: 'string', multiple: true, value: 'IMPORT', help: 'import for the query (e.g. data.lib.x); repeatable' },
  package: { type: 'string', value: 'PACKAGE', help: 'evaluate the query in this package (its rules are visible unqualified)' },
} satisfies Record<string, FlagSpec>;

/** One query, from the argument or stdin, and one input at most. */
export function checkQueryArguments(values: FlagValues, positionals: string[]): void {
  if (values.stdin && values['stdin-input']) throw new FlagError('--stdin and --stdin-input both read stdin: give one');
  if (values.input !== undefined && values['stdin-input']) throw new FlagError('--input and --stdin-input both give the input: give one');
  if (positionals.length !== (values.stdin ? 0 : 1)) throw new FlagError(values.stdin ? 'the query is read from stdin: give no QUERY argument' : 'specify exactly one query argument');
}

/** A whole number (`--count`), zero or more unless `signed` (`--max-errors`, where 0 or less means no limit). */
export function integerFlag(values: FlagValues, name: string, signed = false): number {
  const text = values[name] as string;
  if (!(signed ? /^\s*[+-]?\d+\s*$/ : /^\s*\+?\d+\s*$/).test(text)) throw new FlagError(`--${name} ${text}: expected ${signed ? 'an integer' : 'a whole number'}`);
  return Number(text);
}

function checkOperands(positionals: string[], { count, name }: NonNullable<CommandLine['operands']>): void {
  if (count === 'one' && positionals.length !== 1) throw new FlagError(`specify exactly one ${name}`);
  if (count === 'some' && positionals.length === 0) throw new FlagError(`specify at least one ${name}`);
}

export interface CommandLine {
  /** The subcommand's name, for messages. */
  name: string;
  groups: FlagGroup[];
  help: () => string;
  /** The --format values the command prints; checked first. */
  formats?: readonly string[];
  /** The operands the command takes, checked next: exactly one or at least one, and what one is ('file', 'path'). */
  operands?: { count: 'one' | 'some'; name: string };
  /** Further checks of the values; throws FlagError. */
  validate?: (values: FlagValues, positionals: string[]) => void;
}

/**
 * Parses a subcommand's arguments. Returns the process exit code instead when there is nothing more to do: 0
 * after printing the help (--help), else the FlagError's code (2 unless OPA fails that flag otherwise) after
 * printing what was wrong with the flags.
 */
export function parseCommandLine(args: string[], command: CommandLine): { values: FlagValues; positionals: string[] } | number {
  try {
    const { values, positionals } = parseFlags(args, command.groups);
    if (values.help) {
      console.log(command.help());
      return 0;
    }
    if (command.formats) choiceFlag(values, 'format', command.formats);
    if (command.operands) checkOperands(positionals, command.operands);
    command.validate?.(values, positionals);
    return { values, positionals };
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    console.error(`verdict ${command.name}: ${err.message}\n(verdict ${command.name} --help lists the flags)`);
    return err.exitCode;
  }
}
