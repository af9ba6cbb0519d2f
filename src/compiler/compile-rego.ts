// Rego source to OPA's IR plan and to wasm, in-process: parse → compile stages → planner → back end.
import type { Module, RegoVersion } from './ast.js';
import { compileOwnedModules } from './compile.js';
import type { CompileOptions } from './stages/context.js';
import { formatRegoError, type RegoError } from './errors.js';
import { parseModule } from './parse-module.js';
import { headRefCapabilityErrors } from './head-ref-capabilities.js';
import { FUTURE_KEYWORDS_V0, FUTURE_KEYWORDS_V1 } from './parser.js';
import { planModules, type BuiltinDecl } from './planner/index.js';
import type { Policy } from '../ir/plan.js';
import { compilePlan } from '../wasm/compile.js';

export interface RegoFile {
  path: string;
  source: string;
  /** An ad-hoc query wrapped as a module (src/compiler/query.ts): checked as OPA checks queries, not policies. */
  query?: true;
  /** This file's Rego version, when it differs from the set's (CompileRegoOptions.regoVersion). */
  regoVersion?: RegoVersion;
  /** Where the query's own text begins, when the query is the body of a rule (see ParseOptions.queryBodyAt). */
  queryBodyAt?: number;
}

export interface CompileRegoOptions {
  /** Builtin declarations by name, as `opa capabilities` lists them (see builtinTable). */
  builtins: ReadonlyMap<string, BuiltinDecl>;
  /** The builtins Rego v1 modules may not call (OPA's `deprecated` capability flag). */
  deprecated: ReadonlySet<string>;
  /** The language features allowed (the `features` of a capabilities document); all of Verdict's when absent. */
  features?: ReadonlySet<string>;
  /** The future keywords of a capabilities document (with `features`); Verdict's when absent. */
  futureKeywords?: readonly string[];
  regoVersion?: RegoVersion;
  /** OPA's strict mode (CompileOptions.strict). */
  strict?: boolean;
  /** Type checking with JSON schemas (CompileOptions.schemas). */
  schemas?: CompileOptions['schemas'];
  /** The compile error limit (CompileOptions.maxErrors). */
  maxErrors?: number;
}

/** Compile errors of a policy set, all of them, with OPA's codes. */
export class RegoCompileError extends Error {
  constructor(readonly errors: RegoError[]) {
    super(errors.map(formatRegoError).join('\n'));
    this.name = 'RegoCompileError';
  }
}

interface Capabilities {
  builtins: Array<{ name: string; decl: BuiltinDecl; deprecated?: boolean }>;
}

/** The builtin table from the JSON of `opa capabilities` ({builtins: [{name, decl}]}). */
export function builtinTable(capabilities: Capabilities): Map<string, BuiltinDecl> {
  return new Map(capabilities.builtins.map((b) => [b.name, b.decl]));
}

/** The names `opa capabilities` marks deprecated. */
export function deprecatedBuiltins(capabilities: Capabilities): Set<string> {
  return new Set(capabilities.builtins.filter((b) => b.deprecated).map((b) => b.name));
}

export function checkRego(files: RegoFile[], options: CompileRegoOptions): Module[] {
  return checkRegoNamed(files, options).modules;
}

/** checkRego, with the source name of each generated local variable. */
export function checkRegoNamed(files: RegoFile[], options: CompileRegoOptions): { modules: Module[]; localNames: ReadonlyMap<string, string> } {
  const modules = parseRegoFiles(files, options);
  return checkParsedModulesNamed(modules, options);
}

/** Parses every file (each in its own Rego version, else the set's); throws RegoCompileError with all errors. */
export function parseRegoFiles(files: RegoFile[], options: Pick<CompileRegoOptions, 'regoVersion' | 'features' | 'futureKeywords'>): Module[] {
  const modules: Module[] = [];
  const errors: RegoError[] = [];
  for (const f of files) {
    const regoVersion = f.regoVersion ?? options.regoVersion ?? 'v1';
    const illegal = illegalCapabilities(regoVersion, options);
    if (illegal) {
      errors.push({ code: 'rego_parse_error', message: `illegal capabilities: ${illegal}`, location: { file: '', row: 0, col: 0 } });
      continue;
    }
    const parsed = parseModule(f.path, f.source, { regoVersion, features: options.features, futureKeywords: options.futureKeywords, queryBodyAt: f.queryBodyAt, generatedFromQuery: f.query === true });
    errors.push(...parsed.errors);
    if (parsed.module) modules.push(f.query ? { ...parsed.module, query: true } : parsed.module);
  }
  if (errors.length > 0) throw new RegoCompileError(errors);
  return modules;
}

/**
 * Why OPA's parser refuses to read any module of a version under a capabilities document: v1 needs the rego_v1
 * feature, and every future keyword listed must be one the version knows.
 */
function illegalCapabilities(version: RegoVersion, { features, futureKeywords }: Pick<CompileRegoOptions, 'features' | 'futureKeywords'>): string | undefined {
  if (!features) return undefined;
  if (version === 'v1' && !features.has('rego_v1')) return 'rego_v1 feature required for parsing v1 Rego';
  const unknown = (futureKeywords ?? []).find((kw) => !FUTURE_KEYWORDS_V0.includes(kw) && !FUTURE_KEYWORDS_V1.includes(kw));
  return unknown === undefined ? undefined : `unknown keyword: ${unknown}`;
}

/** The compile stages over modules just parsed, which they rewrite in place. Throws RegoCompileError. */
export function checkParsedModules(modules: Module[], options: CompileRegoOptions): Module[] {
  return checkParsedModulesNamed(modules, options).modules;
}

function checkParsedModulesNamed(modules: Module[], options: CompileRegoOptions): { modules: Module[]; localNames: ReadonlyMap<string, string> } {
  const builtin = (name: string) => {
    const decl = options.builtins.get(name);
    return decl && { args: decl.args?.length ?? 0, variadic: decl.variadic !== undefined, deprecated: options.deprecated.has(name), decl };
  };
  const headRefErrors = headRefCapabilityErrors(modules, options.features);
  if (headRefErrors.length > 0) throw new RegoCompileError(headRefErrors);
  const out = compileOwnedModules(modules, { builtin, strict: options.strict, schemas: options.schemas, maxErrors: options.maxErrors });
  if (out.errors.length > 0) throw new RegoCompileError(out.errors);
  return { modules: out.modules, localNames: out.localNames };
}

/** Entrypoints are "pkg/rule" paths. Throws RegoCompileError or PlanError. */
export function planRego(files: RegoFile[], entrypoints: string[], options: CompileRegoOptions): Policy {
  return planModules(checkRego(files, options), entrypoints, options.builtins);
}

export function compileRego(files: RegoFile[], entrypoints: string[], options: CompileRegoOptions): Uint8Array {
  return compilePlan(planRego(files, entrypoints, options));
}
