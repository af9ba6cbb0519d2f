// `verdict check [flags] PATH...`: parses and compiles policies with Verdict's compiler, reporting errors as
// `opa check` does (on stderr: OPA's error list, or with -f json {"errors": [...]}), exit code 1 on errors.
import { capabilitiesFlag, capabilitiesOption, type CompileCapabilities } from './capabilities-flag.js';
import { checkRego, RegoCompileError } from '../compiler/compile-rego.js';
import { flagsHelp, integerFlag, parseCommandLine, regoVersionFlag, schemaFlag, sharedFlags, strictFlag, type FlagGroup } from './flags.js';
import { goErrorList, goJson } from './go-format.js';
import { errorJson, formatRegoError } from '../compiler/errors.js';
import { LoadError, loadBundlePaths, loadPaths, schemaOption } from './load.js';

const checkFlags: FlagGroup[] = [
  {
    title: 'Flags',
    flags: {
      format: { type: 'string', short: 'f', default: 'pretty', value: 'FORMAT', help: 'pretty or json (default pretty)' },
      'max-errors': { type: 'string', short: 'm', default: '10', value: 'N', help: 'the number of compile errors to report before stopping (default 10; 0 or less: all)' },
      ...strictFlag,
      ...schemaFlag,
      ...capabilitiesFlag,
      ...sharedFlags,
    },
  },
  {
    title: 'Refused',
    flags: {
      'v0-v1': { type: 'boolean', help: '', refused: 'checking against both Rego versions at once is not supported; run verdict check with and without --v0-compatible' },
    },
  },
];

export function checkHelp(): string {
  return flagsHelp(['usage: verdict check [flags] PATH...', '', "Checks that the policies in PATHs parse and compile with Verdict's compiler, as opa check does."], checkFlags);
}

interface ErrorOut {
  message: string;
  code?: string;
  location?: { file: string; row: number; col: number };
  details?: unknown;
}

/** Runs the subcommand; returns the process exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  let maxErrors = 0;
  let capabilities: CompileCapabilities | undefined;
  const parsed = parseCommandLine(args, {
    name: 'check',
    groups: checkFlags,
    help: checkHelp,
    formats: ['pretty', 'json'],
    operands: { count: 'some', name: 'file' },
    validate: (values) => {
      maxErrors = integerFlag(values, 'max-errors', true);
      capabilities = capabilitiesOption(values);
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  let errors: ErrorOut[] = [];
  let suffix = '';
  try {
    const load = values.bundle ? loadBundlePaths : loadPaths;
    const { modules } = await load(positionals, { ignore: values.ignore as string[] | undefined });
    const schemas = await schemaOption(values.schema);
    checkRego(modules, { ...capabilities!, regoVersion: regoVersionFlag(values), strict: values.strict === true, schemas, maxErrors });
  } catch (err) {
    if (err instanceof LoadError) {
      errors = [{ message: err.message }];
      suffix = ' during loading';
    } else if (err instanceof RegoCompileError) {
      errors = err.errors.map(errorJson);
      if (err.errors.some((e) => e.code === 'rego_parse_error')) suffix = ' during loading';
    } else throw err;
  }
  if (errors.length === 0) return 0;
  if (values.format === 'json') console.error(goJson({ errors }, 2));
  else console.error(goErrorList(errors.map((e) => (e.code ? formatRegoError(e as Parameters<typeof formatRegoError>[0]) : e.message)), suffix));
  return 1;
}
