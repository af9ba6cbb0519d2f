// What the query flags (queryFlags, with --ignore, --schema and --v0-compatible) ask of an evaluation: `verdict
// eval`, its partial evaluation and `verdict bench` read them into EvalOptions the same way.
import { readFileSync } from 'node:fs';
import type { RegoVersion } from '../compiler/ast.js';
import type { EvalOptions } from './eval.js';
import { regoVersionFlag, type FlagValues } from './flags.js';
import { capabilitiesOption } from './capabilities-flag.js';

/**
 * The query, its policies, data, input and context. Reads stdin for --stdin (the query) or --stdin-input (the
 * input): checkQueryArguments lets only one of them through.
 */
export function queryOptions(values: FlagValues, positionals: string[]): EvalOptions & { regoVersion: RegoVersion } {
  return {
    dataPaths: (values.data as string[] | undefined) ?? [],
    bundlePaths: (values.bundle as string[] | undefined) ?? [],
    inputFile: values.input as string | undefined,
    inputText: values['stdin-input'] ? readFileSync(0, 'utf8') : undefined,
    query: values.stdin ? readFileSync(0, 'utf8') : positionals[0]!,
    regoVersion: regoVersionFlag(values),
    context: { package: values.package as string | undefined, imports: values.import as string[] | undefined },
    ignore: values.ignore as string[] | undefined,
    schemaPath: values.schema as string | undefined,
    strict: values.strict === true,
    capabilities: capabilitiesOption(values),
  };
}
