// The engine: the active policy set (wasm programs + their entrypoints) over the data store, and the
// Decide function every front end (REST, Envoy, gateways) calls. Activation builds the whole new set first
// and swaps it in one assignment, so the previous set keeps serving until the new one is ready.
import { checkBundlesDoNotOverlap, isObject, type Bundle, type RegoModule } from '../bundle/bundle.js';
import { hostBuiltins } from '../builtins/index.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { HttpSendSession, NeedsResponse, withSession, type NdBuiltinCache } from '../builtins/http-send/session.js';
import { NoCompilerError, NoRulesError, type CompiledPolicy, type RegoCompiler } from './compiler.js';
import { evaluateWithHttpSend } from './http-send-loop.js';
import { QUERY_PACKAGE, queryModule, type QueryRow } from '../compiler/query.js';
import { WasmProgram } from './program.js';
import { preparedPath } from './prepared-paths.js';
import { wasmRuleModules } from './wasm-rules.js';
import { dataKeyYielding, loadDataYielding, type DataStats } from './data-load.js';
import { expectedBytes } from './program.js';
import type { SharedData } from './shared-data.js';
import { releaseMemoryAfterLoad } from './memory-release.js';
import { DataStore, childOf, splitPath } from './store.js';
import { ruleConflictMessage, ruleSites, type RuleSite } from './rule-conflicts.js';
import { writeJson } from '../json/writer.js';
import { cloneJson } from '../json/clone.js';
import type { TraceContext } from '../tracing/index.js';

/** The shared decision contract (BRIEF.md): path like "envoy/authz/allow"; result absent = undefined. */
/** Where a front end's request came from: its number on the listener (OPA's req_id) and the trace it is part of. */
export interface DecisionOrigin {
  reqId?: number;
  trace?: TraceContext;
}

export type Decide = (path: string, input: unknown, origin?: DecisionOrigin) => Promise<{ result?: unknown; decisionId?: string; ndBuiltinCache?: Evaluation['ndBuiltinCache'] }>;

/** A module added through the Policy API (id chosen by the client). */
export interface ApiModule {
  id: string;
  source: string;
  packagePath: string[];
}

/** A committed change to the policy set, as replicated to the other worker threads of one server. */
export type PolicyChange = { kind: 'bundles'; bundles: Bundle[] } | { kind: 'modules'; apiModules: ApiModule[] };

interface PolicySet {
  bundles: Bundle[];
  apiModules: ApiModule[];
  entrypoints: Map<string, WasmProgram>;
  /**
   * Paths above the rules (packages) planned as entrypoints of their own: the whole document there (rules,
   * base data, nested packages) built in one evaluation. Only where every rule below is in that program.
   */
  packages: Map<string, WasmProgram>;
  /** Entrypoints split into segments, for prefix searches when a path is not itself an entrypoint. */
  entrypointPaths: { name: string; segments: string[] }[];
  /** Entrypoints only a bundle's policy.wasm defines (no Rego rule at that path). */
  wasmOnly: string[];
}

export interface EvaluateOptions {
  /** OPA's strict-builtin-errors: the first builtin error fails the evaluation (EvaluationError with `builtin`). */
  strictBuiltinErrors?: boolean;
  /** A logged decision's non-deterministic answers (src/replay), used instead of asking anew. */
  recorded?: NdBuiltinCache;
}

export interface Evaluation {
  defined: boolean;
  result?: unknown;
  /** OPA's nd_builtin_cache, when recordNondeterministic is on. */
  ndBuiltinCache?: Record<string, Record<string, unknown>>;
  /**
   * OPA's external resolve: time spent reading base data outside the modules (a path no entrypoint covers), or
   * making the instance's copy of it current for a package's document.
   */
  resolveNs?: number;
  /** False when the path's plan was made for this evaluation (OPA's prepared-query cache miss). */
  cacheHit?: boolean;
  /** On a cache miss: the time making the path's plan took (prepared-paths.ts). */
  prepareNs?: number;
}

export class Engine {
  readonly store = new DataStore();
  /** OPA's nd_builtin_cache: report what non-deterministic builtins answered with each evaluation. */
  recordNondeterministic = false;
  /**
   * The process's shared memory (worker threads of one server; see shared-data.ts), set before the first
   * activation: modules of our back end are placed in it and data is loaded once for every thread.
   */
  sharedData?: SharedData;
  private set: PolicySet = { bundles: [], apiModules: [], entrypoints: new Map(), packages: new Map(), entrypointPaths: [], wasmOnly: [] };

  constructor(
    private readonly compiler: RegoCompiler,
    /** Answers the policies' http.send calls (config http_send). */
    readonly httpSend: HttpSendClient = new HttpSendClient(),
  ) {}

  get bundles(): readonly Bundle[] {
    return this.set.bundles;
  }

  get apiModules(): readonly ApiModule[] {
    return this.set.apiModules;
  }

  /**
   * Called inside each committed change, after the swap and before the next change starts; the change's
   * promise settles after it (a server with several workers answers once every worker has the change).
   */
  onChange?: (change: PolicyChange) => Promise<void> | void;

  /**
   * Activates a new set of bundles atomically; on any error the previous set stays active. `apiModules`
   * replaces the Policy API's modules in the same compilation (a worker taking over a running server's set).
   */
  activate(bundles: Bundle[], apiModules: ApiModule[] = this.set.apiModules): Promise<void> {
    return this.serially(async () => {
      checkBundlesDoNotOverlap(bundles);
      const next = await this.build(bundles, apiModules);
      // The new data goes into the new instances while the active set keeps answering from the old data
      // (the store is unchanged until commit). Data the modules cannot load (too deep for the wasm runtime,
      // say) refuses the whole activation here, with nothing changed. From commit to the swap nothing awaits,
      // so no decision sees the new data with the old policies.
      const prepared = this.store.prepare(bundles);
      const loaded = await this.loadData(next, prepared.root);
      const exact = this.store.commit(prepared);
      if (exact) for (const program of loaded) program.markLoaded(this.store.version);
      this.swap(next);
      await this.onChange?.({ kind: 'bundles', bundles });
    });
  }

  /**
   * Rego version for modules that do not state one (API modules, bundles without `rego_version` in their
   * manifest): 1, or 0 under `--v0-compatible`.
   */
  defaultRegoVersion: 0 | 1 = 1;

  /**
   * Policy API: adds or replaces a module, recompiling the Rego side of the policy set. `precondition` runs
   * inside the change, against the set the module joins (the bundle roots it must stay out of).
   */
  putModule(module: ApiModule, precondition: () => void = () => undefined): Promise<void> {
    return this.replaceModules([module.id], [module], precondition);
  }

  /** Removes the modules with the given ids and adds `modules`, in one compilation (files named to `verdict run`). */
  replaceModules(removeIds: string[], modules: ApiModule[], precondition: () => void = () => undefined): Promise<void> {
    return this.serially(async () => {
      precondition();
      const dropped = new Set([...removeIds, ...modules.map((m) => m.id)]);
      const apiModules = [...this.set.apiModules.filter((m) => !dropped.has(m.id)), ...modules];
      this.swap(await this.withData(await this.build(this.set.bundles, apiModules)));
      await this.onChange?.({ kind: 'modules', apiModules });
    });
  }

  /**
   * Makes `next` the active set. The programs only the previous set had give back their instances (in a
   * shared memory: their regions and their hold on the previous data); one still used later makes a new one.
   */
  private swap(next: PolicySet): void {
    const previous = this.set;
    this.set = next;
    // Parsed on the first data write the set sees: most servers never write through the Data API.
    let sites: RuleSite[] | undefined;
    this.store.ruleGuard = (writtenAt, after) => {
      if (!sites) {
        const { modules, regoVersion } = regoSources(next.bundles, next.apiModules, this.defaultRegoVersion);
        sites = ruleSites(modules, regoVersion);
      }
      return ruleConflictMessage(sites, writtenAt, after);
    };
    const kept = new Set([...next.entrypoints.values(), ...next.packages.values()]);
    for (const program of new Set([...previous.entrypoints.values(), ...previous.packages.values()])) if (!kept.has(program)) program.dispose();
  }

  deleteModule(id: string): Promise<boolean> {
    return this.serially(async () => {
      if (!this.set.apiModules.some((m) => m.id === id)) return false;
      const apiModules = this.set.apiModules.filter((m) => m.id !== id);
      this.swap(await this.withData(await this.build(this.set.bundles, apiModules)));
      await this.onChange?.({ kind: 'modules', apiModules });
      return true;
    });
  }

  /** The store's current data loaded into a new set's instances, without holding up decisions meanwhile. */
  private async withData(set: PolicySet): Promise<PolicySet> {
    const version = this.store.version;
    const loaded = await this.loadData(set, this.store.document);
    // A Data API write during the load leaves the instances to reload at their next evaluation.
    if (this.store.version === version) for (const program of loaded) program.markLoaded(version);
    return set;
  }

  /**
   * Loads `root` into every instance of a set: once into each that has a memory of its own (each piece is
   * serialised once for all of them), and once for all those in the shared memory, unless another thread
   * loaded the same document already (then they read its copy).
   */
  private async loadData(set: PolicySet, root: Record<string, unknown>): Promise<WasmProgram[]> {
    const programs = [...new Set(set.entrypoints.values())];
    const own = programs.filter((p) => !p.sharesMemory);
    const sharing = programs.filter((p) => p.sharesMemory);
    let stats: DataStats = { pieces: 0, jsonBytes: 0 };
    // What the activation left behind (the bundle read, the pieces serialised) is as large with or without a load.
    let documentBytes = 0;
    if (own.length > 0) stats = await loadDataYielding(own, root);
    if (sharing.length > 0) {
      const shared = this.sharedData!;
      const { key, jsonBytes } = await dataKeyYielding(root);
      documentBytes = jsonBytes;
      const area = await shared.acquire(key, expectedBytes(jsonBytes), (chunks) =>
        sharing[0]!.loader.loadArea(chunks, async (target) => {
          const loaded = await loadDataYielding([target], root);
          if (own.length === 0) stats = loaded;
        }),
      );
      for (const program of sharing) program.attachArea(area);
      shared.release(area);
    }
    this.lastDataLoad = { ...stats, instances: programs.length };
    releaseMemoryAfterLoad(Math.max(stats.jsonBytes, documentBytes));
    return programs;
  }

  /** The last data load: pieces, JSON bytes serialised, instances loaded. */
  lastDataLoad: DataStats & { instances: number } = { pieces: 0, jsonBytes: 0, instances: 0 };

  /**
   * What the active set's data takes: each distinct wasm instance once (entrypoints of one module share one
   * instance and one copy), in bytes of its linear memory.
   */
  dataMemory(): { instances: number; wasmDataBytes: number } {
    const programs = [...new Set(this.set.entrypoints.values())];
    const shared = this.sharedData?.areas().bytes ?? 0;
    return { instances: programs.length, wasmDataBytes: programs.reduce((sum, p) => sum + p.dataBytes, shared) };
  }

  /**
   * Every change to the active policy set (bundle activations, uploads, the Policy API) runs alone, in
   * arrival order: each builds on the set the previous one left, so two changes that both succeed both
   * survive. A failed change does not stop the ones queued behind it.
   */
  private changes: Promise<unknown> = Promise.resolve();

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.changes.then(change, change);
    this.changes = run.catch(() => undefined);
    return run;
  }

  /**
   * Evaluates the document at `path` (segments under data). `input` is JSON text or undefined.
   * An entrypoint at or above the path is evaluated and the rest of the path looked up in its result; a
   * package planned as an entrypoint is one evaluation; otherwise the base data at the path is overlaid with
   * every entrypoint below it.
   * Synchronous unless the policies call http.send: then a promise, settled once the requests are fetched.
   */
  evaluate(path: string[], input: Uint8Array | undefined, options: EvaluateOptions = {}): Evaluation | Promise<Evaluation> {
    if (options.recorded) return evaluateWithHttpSend(this.httpSend, () => this.evaluateOnce(path, input, options), options.recorded);
    if (!this.recordNondeterministic) return evaluateWithHttpSend(this.httpSend, () => this.evaluateOnce(path, input, options));
    return evaluateWithHttpSend(this.httpSend, (session) => ({ ...this.evaluateOnce(path, input, options), ndBuiltinCache: session.ndBuiltinCache() }));
  }

  /**
   * True when the active policy set evaluates (the health check). http.send is not fetched: a pass that
   * reaches an http.send call has shown the modules run, and a health probe must not send requests.
   */
  canEvaluate(): boolean {
    try {
      withSession(new HttpSendSession(this.httpSend), () => this.evaluateOnce([], undefined));
      return true;
    } catch (err) {
      return err instanceof NeedsResponse;
    }
  }

  private evaluateOnce(path: string[], input: Uint8Array | undefined, options: EvaluateOptions = {}): Evaluation {
    const strict = options.strictBuiltinErrors === true;
    const { plan, prepareNs } = preparedPath(this.set, path);
    const prepared = prepareNs === undefined ? { cacheHit: true } : { cacheHit: false, prepareNs };
    if (plan.kind === 'entrypoint') {
      const rs = plan.program.evaluate(plan.name, input, strict);
      if (rs.length === 0) return { defined: false, ...prepared };
      return { ...lookup(rs[0].result, plan.rest), ...prepared };
    }
    if (plan.kind === 'package') {
      // The package's document holds its base data, which the module reads from its instance's copy: making
      // that copy current (a version check, or a reload after a Data API write) is the resolve step.
      const resolveStart = process.hrtime.bigint();
      plan.program.loadData();
      const resolveNs = Number(process.hrtime.bigint() - resolveStart);
      const rs = plan.program.evaluate(plan.name, input, strict);
      return rs.length === 0 ? { defined: false, resolveNs, ...prepared } : { defined: true, result: rs[0].result, resolveNs, ...prepared };
    }
    // Base data as OPA answers it: objects with their keys sorted (the store keeps them in arrival order).
    const resolveStart = process.hrtime.bigint();
    let value = this.store.read(path);
    const resolved = () => Number(process.hrtime.bigint() - resolveStart);
    // OPA's root document leaves out `system` (its base data and the rules below it); data.system answers it.
    const root = path.length === 0;
    if (plan.below.length === 0) {
      if (value === undefined) return { defined: false, resolveNs: resolved(), ...prepared };
      value = cloneJson(value, { sortKeys: true });
      if (root && isObject(value)) delete value.system;
      return { defined: true, result: value, resolveNs: resolved(), ...prepared };
    }
    let document: Record<string, unknown> = isObject(value) ? cloneJson(value, { sortKeys: true }) : {};
    if (root) delete document.system;
    const resolveNs = resolved();
    for (const e of plan.below) {
      if (root && e.segments[0] === 'system') continue;
      const rs = this.set.entrypoints.get(e.name)!.evaluate(e.name, input, strict);
      if (rs.length > 0) document = placeSorted(document, e.segments.slice(path.length), rs[0].result);
    }
    return { defined: true, result: document, resolveNs, ...prepared };
  }

  /** The Decide contract for PEP adapters. */
  readonly decide: Decide = async (path, input) => {
    const text = input === undefined ? undefined : encoder.encode(writeJson(input));
    const outcome = this.evaluate(splitPath(path), text);
    const evaluation = outcome instanceof Promise ? await outcome : outcome;
    const nd = evaluation.ndBuiltinCache ? { ndBuiltinCache: evaluation.ndBuiltinCache } : {};
    return evaluation.defined ? { result: evaluation.result, ...nd } : nd;
  };

  /** True when a rule defines the path or a document above it (OPA then says "document undefined", not "missing"). */
  hasRulesAt(path: string[]): boolean {
    return this.set.entrypointPaths.some((e) => e.segments.length <= path.length && e.segments.every((s, i) => path[i] === s));
  }

  /**
   * An ad-hoc query (the Query API) against the active set's Rego modules and data, compiled by the set's
   * compiler with the query as one more module. Returns each solution's bindings, in OPA's order. Rules of a
   * wasm bundle are seen through the Rego sources shipped with it, and its entrypoints (which only its
   * policy.wasm defines) as their values for this input (wasm-rules.ts).
   */
  async query(query: string, input: Uint8Array | undefined): Promise<{ rows: Record<string, unknown>[]; compileNs: number; evalNs: number }> {
    const started = process.hrtime.bigint();
    const set = this.set;
    const compiled = queryModule(query);
    const { modules, regoVersion } = regoSources(set.bundles, set.apiModules, this.defaultRegoVersion);
    const wasmRules = set.wasmOnly.map((name) => ({ name, program: set.entrypoints.get(name)! }));
    const resolved = evaluateWithHttpSend(this.httpSend, () => wasmRuleModules(wasmRules, input));
    const wasmModules = resolved instanceof Promise ? await resolved : resolved;
    const { wasm } = await this.compiler.compile([...modules, ...wasmModules, { path: compiled.file.path, source: compiled.file.source, packagePath: [QUERY_PACKAGE], query: true }], { regoVersion });
    const program = await WasmProgram.load(wasm, hostBuiltins, this.store, 'verdict', this.sharedData);
    const compiledAt = process.hrtime.bigint();
    let result: unknown;
    try {
      const outcome = evaluateWithHttpSend(this.httpSend, () => {
        const rs = program.evaluate(compiled.entrypoint, input);
        return { defined: rs.length > 0, result: rs[0]?.result };
      });
      ({ result } = outcome instanceof Promise ? await outcome : outcome);
    } finally {
      program.dispose();
    }
    const rows = ((result ?? []) as QueryRow[]).map((row) => row.bindings);
    return { rows, compileNs: Number(compiledAt - started), evalNs: Number(process.hrtime.bigint() - compiledAt) };
  }

  /** The active set's Rego modules and the version they compile as (for partial evaluation, which reads the source). */
  regoSources(): { modules: RegoModule[]; regoVersion: 0 | 1 } {
    return regoSources(this.set.bundles, this.set.apiModules, this.defaultRegoVersion);
  }

  private async build(bundles: Bundle[], apiModules: ApiModule[]): Promise<PolicySet> {
    const entrypoints = new Map<string, WasmProgram>();
    const packages = new Map<string, WasmProgram>();
    for (const bundle of bundles) {
      for (const wasm of bundle.wasm) {
        const program = await WasmProgram.load(wasm.bytes, hostBuiltins, this.store, 'foreign', this.sharedData);
        for (const entry of bundle.manifest.wasm ?? []) if (entry.module === wasm.path) entrypoints.set(entry.entrypoint, program);
      }
    }
    const wasmEntrypoints = new Set(entrypoints.keys());
    const { modules: regoModules, regoVersion } = regoSources(bundles, apiModules, this.defaultRegoVersion);
    const compiled = await this.compileBesideWasm(regoModules, regoVersion, bundles);
    if (compiled) {
      const program = await WasmProgram.load(compiled.wasm, hostBuiltins, this.store, 'verdict', this.sharedData);
      // A bundle's policy.wasm answers for its own entrypoints, as OPA's wasm resolvers do.
      for (const name of compiled.entrypoints) {
        if (entrypoints.has(name)) wasmEntrypoints.delete(name);
        else entrypoints.set(name, program);
      }
      // A package with rules from a policy.wasm below it is left to the composing path.
      const foreign = [...entrypoints].filter(([, p]) => p !== program).map(([name]) => name);
      for (const name of compiled.packages) if (!foreign.some((f) => f.startsWith(`${name}/`))) packages.set(name, program);
    }
    const entrypointPaths = [...entrypoints.keys()].map((name) => ({ name, segments: splitPath(name) }));
    return { bundles, apiModules, entrypoints, packages, entrypointPaths, wasmOnly: [...wasmEntrypoints] };
  }

  /**
   * Compiles a set's Rego. When all of it was shipped beside policy.wasm modules, a compile with no rules left
   * (`opa build -t wasm` keeps the entrypoint rules only in the module) or no compiler in this build leaves the
   * modules to serve alone; any other Rego must compile.
   */
  private async compileBesideWasm(modules: RegoModule[], regoVersion: 0 | 1, bundles: Bundle[]): Promise<CompiledPolicy | undefined> {
    if (modules.length === 0) return undefined;
    try {
      return await this.compiler.compile(modules, { regoVersion });
    } catch (err) {
      const besideWasm = bundles.filter((b) => b.wasm.length > 0).reduce((n, b) => n + b.modules.length, 0);
      if (besideWasm === modules.length && (err instanceof NoRulesError || err instanceof NoCompilerError)) return undefined;
      throw err;
    }
  }
}

const encoder = new TextEncoder();

/**
 * The Rego modules of a set (every bundle's, those shipped beside a policy.wasm included, and the Policy
 * API's), and the version they compile as: 0 when any source (a bundle's manifest, or the default for the
 * rest) says 0. As in OPA, a wasm bundle's Rego sources are compiled too: its rules that are not wasm
 * entrypoints are served from them, and queries see its rules.
 */
function regoSources(bundles: Bundle[], apiModules: readonly ApiModule[], defaultVersion: 0 | 1): { modules: RegoModule[]; regoVersion: 0 | 1 } {
  const modules: RegoModule[] = [
    ...bundles.flatMap((b) => b.modules.map((m) => ({ ...m, path: `${b.name}/${m.path}` }))),
    ...apiModules.map((m) => ({ path: m.id, source: m.source, packagePath: m.packagePath })),
  ];
  const versions = bundles.filter((b) => b.modules.length > 0).map((b) => b.manifest.rego_version ?? defaultVersion);
  if (apiModules.length > 0) versions.push(defaultVersion);
  return { modules, regoVersion: versions.includes(0) ? 0 : 1 };
}

function lookup(value: unknown, rest: string[]): Evaluation {
  for (const key of rest) {
    value = childOf(value, key);
    if (value === undefined) return { defined: false };
  }
  return { defined: true, result: value };
}

/**
 * `target` with `value` set at `path`, every object on the way keeping its keys sorted as OPA answers them. An
 * object that gains a key out of order is rebuilt, so the returned object may be a new one.
 */
function placeSorted(target: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [key, ...rest] = path;
  const below = target[key];
  const placed = rest.length === 0 ? value : placeSorted(isObject(below) ? below : {}, rest, value);
  const known = Object.hasOwn(target, key);
  target[key] = placed;
  if (known) return target;
  const keys = Object.keys(target);
  if (keys.length < 2 || keys[keys.length - 2] < key) return target;
  keys.sort();
  const sorted: Record<string, unknown> = {};
  for (const k of keys) sorted[k] = target[k];
  return sorted;
}

