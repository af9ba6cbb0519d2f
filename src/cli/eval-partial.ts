// `verdict eval -p [--unknowns REF]... [--disable-inlining REF]...`: partial evaluation of the query instead of
// full evaluation, printed as `opa eval -p --format json` prints it: {"partial": {"queries": [...],
// "modules": [...]}}, `{"partial": {}}` when the query can never succeed, {"errors": [...]} (exit 2) when the
// policies or the query do not compile or use what partial evaluation does not support; or, with
// --format source, as Rego (eval-partial-source.ts).
import { capabilitiesOption } from './capabilities-flag.js';
import { RegoCompileError } from '../compiler/compile-rego.js';
import { errorJson } from '../compiler/errors.js';
import { loadDataAndBundles, schemaOption } from './load.js';

/** The flags, for parseArgs. */
export const partialFlags = {
  partial: { type: 'boolean', short: 'p' },
  unknowns: { type: 'string', multiple: true },
  'disable-inlining': { type: 'string', multiple: true },
} as const;

export const partialUsage = '[-p [--unknowns REF]... [--disable-inlining REF]...]';

export interface PartialFlags {
  partial?: boolean;
  unknowns?: string[];
  'disable-inlining'?: string[];
  /** `--schema` (CompileOptions.schemas). */
  schema?: string;
  /** `--strict`: the compiler's strict mode. */
  strict?: boolean;
  /** `--capabilities` (capabilitiesOption). */
  capabilities?: string;
}

/** Refuses --unknowns and --disable-inlining without -p, which would otherwise be ignored. */
export function partialFlagError(values: PartialFlags): string | undefined {
  if (values.partial) return undefined;
  if (values.unknowns) return '--unknowns requires -p (--partial)';
  if (values['disable-inlining']) return '--disable-inlining requires -p (--partial)';
  return undefined;
}

/**
 * The partial result as `opa eval -p` prints it: `{partial}` (--format json), or `source`, the Rego text
 * (--format source); `errors` when the policies or the query do not compile. `bundlePaths`: `-b`, loaded as
 * `verdict eval` loads them.
 */
export async function evaluatePartialQuery(dataPaths: string[], input: unknown, query: string, values: PartialFlags, format: 'json' | 'source' = 'json', bundlePaths: string[] = []): Promise<{ partial?: Record<string, unknown>; source?: string; errors?: unknown[] }> {
  const { modules, data } = await loadDataAndBundles(dataPaths, bundlePaths);
  const schemas = await schemaOption(values.schema);
  // Imported here: `verdict eval` without -p does not load the partial evaluator.
  const { partialEvaluate, PartialEvalError, partialResultJson } = await import('../compiler/partial/index.js');
  try {
    const result = partialEvaluate(modules, { query, input, data, unknowns: values.unknowns, disableInlining: values['disable-inlining'] }, { ...capabilitiesOption(values), schemas, strict: values.strict === true });
    if (format === 'source') return { source: (await import('./eval-partial-source.js')).partialSourceText(result) };
    const json = partialResultJson(result);
    const partial: Record<string, unknown> = {};
    if (json.queries.length > 0) partial.queries = json.queries;
    if (json.support.length > 0) partial.modules = json.support;
    return { partial };
  } catch (err) {
    if (err instanceof RegoCompileError) return { errors: err.errors.map(errorJson) };
    if (err instanceof PartialEvalError) {
      const loc = err.location;
      return { errors: [{ message: err.message, code: err.code, location: { file: loc?.file ?? '', row: loc?.row ?? 0, col: loc?.col ?? 0 } }] };
    }
    throw err;
  }
}
