// ?explain=notes|fails|full|debug on the Data and Query APIs: the explanation of the request's evaluation,
// from the interpreter (src/compiler/explain/), beside the compiled policy's answer. JSON events, or with
// ?pretty=true the text form, as OPA answers. What the interpreter cannot follow is refused with a 400 naming
// it, before anything is decided.
import { verdictBuiltins, verdictDeprecated } from '../compiler/builtins.js';
import { RegoCompileError, type CompileRegoOptions, type RegoFile } from '../compiler/compile-rego.js';
import { explain, explanationJson, explanationText, ExplainUnsupported, isExplainMode, type ExplainMode, type ExplainRequest } from '../compiler/explain/index.js';
import type { ServerContext } from './context.js';
import { invalidParameter } from './errors.js';
import { boolParam } from './respond.js';

/**
 * Runs the interpreter (explanations and instrumentation) on the active policy set's Rego and data. What it
 * cannot follow is refused with a 400 naming the parameter that asked for it (`param`, e.g. "explain=full");
 * undefined when the policies or the query do not compile (the decision path then reports that error as it
 * always does).
 */
export function onInterpreter<T>(ctx: ServerContext, param: string, run: (files: RegoFile[], data: ExplainRequest['data'], options: CompileRegoOptions) => T): T | undefined {
  const { modules, regoVersion } = ctx.engine.regoSources();
  const files = modules.map((m) => ({ path: m.path, source: m.source }));
  const options: CompileRegoOptions = { builtins: verdictBuiltins, deprecated: verdictDeprecated, regoVersion: regoVersion === 0 ? 'v0' : 'v1' };
  try {
    return run(files, ctx.engine.store.document, options);
  } catch (err) {
    if (err instanceof ExplainUnsupported) throw invalidParameter(`${param} is not supported for this evaluation: ${err.message}`);
    if (err instanceof RegoCompileError) return undefined;
    throw err;
  }
}

/**
 * The mode asked for, undefined for none. As OPA reads it: the first of the repeated `explain` values that
 * names a mode (case-sensitive); any other value (`off`, empty, unknown) means none.
 */
export function explainMode(query: URLSearchParams): ExplainMode | undefined {
  return query.getAll('explain').find(isExplainMode);
}

/**
 * The explanation for a request, or undefined when the policies or the query do not compile (the decision
 * path then reports that error as it always does).
 */
export function explanation(ctx: ServerContext, query: URLSearchParams, mode: ExplainMode, request: Omit<ExplainRequest, 'data'>): unknown[] | undefined {
  return onInterpreter(ctx, `explain=${mode}`, (files, data, options) => {
    const events = explain(files, { ...request, data }, mode, options);
    if (!boolParam(query, 'pretty')) return explanationJson(events);
    // OPA splits its text at line ends: no event is one empty line.
    const lines = explanationText(events);
    return lines.length > 0 ? lines : [''];
  });
}
