// The engine: the active policy set (wasm programs + their entrypoints) over the data store, and the
// Decide function every front end (REST, Envoy, gateways) calls. Activation builds the whole new set first
// and swaps it in one assignment, so the previous set keeps serving until the new one is ready.
import { checkBundlesDoNotOverlap, isObject, type Bundle, type RegoModule } from '../bundle/bundle.js';
import { hostBuiltins } from '../builtins/index.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { HttpSendSession, NeedsResponse, withSession } from '../builtins/http-send/session.js';
import type { RegoCompiler } from './compiler.js';
import { evaluateWithHttpSend } from './http-send-loop.js';
import { QUERY_PACKAGE, queryModule, type QueryRow } from '../compiler/query.js';
import { WasmProgram } from './program.js';
import { DataStore, childOf, splitPath } from './store.js';
import { writeJson } from '../json/writer.js';
import { cloneJson } from '../json/clone.js';

/** The shared decision contract (BRIEF.md): path like "envoy/authz/allow"; result absent = undefined. */
export type Decide = (path: string, input: unknown) => Promise<{ result?: unknown; decisionId?: string; ndBuiltinCache?: Evaluation['ndBuiltinCache'] }>;

/** A module added through the Policy API (id chosen by the client). */
export interface ApiModule {
  id: string;
  source: string;
  packagePath: string[];
}

interface PolicySet {
  bundles: Bundle[];
  apiModules: ApiModule[];
  entrypoints: Map<string, WasmProgram>;
  /** Entrypoints split into segments, for prefix searches when a path is not itself an entrypoint. */
  entrypointPaths: { name: string; segments: string[] }[];
}

export interface Evaluation {
  defined: boolean;
  result?: unknown;
  /** OPA's nd_builtin_cache, when recordNondeterministic is on. */
  ndBuiltinCache?: Record<string, Record<string, unknown>>;
}

export class Engine {
  readonly store = new DataStore();
  /** OPA's nd_builtin_cache: report what non-deterministic builtins answered with each evaluation. */
  recordNondeterministic = false;
  private set: PolicySet = { bundles: [], apiModules: [], entrypoints: new Map(), entrypointPaths: [] };

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

  /** Activates a new set of bundles atomically; on any error the previous set stays active. */
  activate(bundles: Bundle[]): Promise<void> {
    return this.serially(async () => {
      checkBundlesDoNotOverlap(bundles);
      const next = await this.build(bundles, this.set.apiModules);
      // From here to the swap nothing awaits, so no decision sees the new data with the old policies, and the
      // data is in the new instances before they serve the first decision.
      const undo = this.store.activate(bundles);
      try {
        loadData(next);
      } catch (err) {
        // Data the modules cannot load (too deep for the wasm runtime, say) refuses the whole activation.
        undo();
        throw err;
      }
      this.set = next;
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
      this.set = loadData(await this.build(this.set.bundles, apiModules));
    });
  }

  deleteModule(id: string): Promise<boolean> {
    return this.serially(async () => {
      if (!this.set.apiModules.some((m) => m.id === id)) return false;
      this.set = loadData(await this.build(this.set.bundles, this.set.apiModules.filter((m) => m.id !== id)));
      return true;
    });
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
   * An entrypoint at or above the path is evaluated and the rest of the path looked up in its result;
   * otherwise the base data at the path is overlaid with every entrypoint below it.
   * Synchronous unless the policies call http.send: then a promise, settled once the requests are fetched.
   */
  evaluate(path: string[], input: Uint8Array | undefined): Evaluation | Promise<Evaluation> {
    if (!this.recordNondeterministic) return evaluateWithHttpSend(this.httpSend, () => this.evaluateOnce(path, input));
    return evaluateWithHttpSend(this.httpSend, (session) => ({ ...this.evaluateOnce(path, input), ndBuiltinCache: session.ndBuiltinCache() }));
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

  private evaluateOnce(path: string[], input: Uint8Array | undefined): Evaluation {
    const { entrypoints, entrypointPaths } = this.set;
    for (let n = path.length; n > 0; n--) {
      const name = n === path.length ? path.join('/') : path.slice(0, n).join('/');
      const program = entrypoints.get(name);
      if (program) {
        const rs = program.evaluate(name, input);
        if (rs.length === 0) return { defined: false };
        return lookup(rs[0].result, path.slice(n));
      }
    }
    const below = entrypointPaths.filter((e) => e.segments.length > path.length && path.every((s, i) => e.segments[i] === s));
    // Base data as OPA answers it: objects with their keys sorted (the store keeps them in arrival order).
    let value = this.store.read(path);
    if (below.length === 0) return value === undefined ? { defined: false } : { defined: true, result: cloneJson(value, { sortKeys: true }) };
    value = isObject(value) ? cloneJson(value, { sortKeys: true }) : {};
    for (const e of below) {
      const rs = entrypoints.get(e.name)!.evaluate(e.name, input);
      if (rs.length > 0) place(value as Record<string, unknown>, e.segments.slice(path.length), rs[0].result);
    }
    return { defined: true, result: value };
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
   * compiler with the query as one more module. Returns each solution's bindings, in OPA's order. Rules
   * shipped only as wasm are not visible to a query; their base data is.
   */
  async query(query: string, input: Uint8Array | undefined): Promise<{ rows: Record<string, unknown>[]; compileNs: number; evalNs: number }> {
    const started = process.hrtime.bigint();
    const set = this.set;
    const compiled = queryModule(query);
    const { modules, regoVersion } = regoSources(set.bundles, set.apiModules, this.defaultRegoVersion);
    const { wasm } = await this.compiler.compile([...modules, { path: compiled.file.path, source: compiled.file.source, packagePath: [QUERY_PACKAGE] }], { regoVersion });
    const program = await WasmProgram.load(wasm, hostBuiltins, this.store, 'verdict');
    const compiledAt = process.hrtime.bigint();
    const outcome = evaluateWithHttpSend(this.httpSend, () => {
      const rs = program.evaluate(compiled.entrypoint, input);
      return { defined: rs.length > 0, result: rs[0]?.result };
    });
    const { result } = outcome instanceof Promise ? await outcome : outcome;
    const rows = ((result ?? []) as QueryRow[]).map((row) => row.bindings);
    return { rows, compileNs: Number(compiledAt - started), evalNs: Number(process.hrtime.bigint() - compiledAt) };
  }

  /** The active set's Rego modules and the version they compile as (for partial evaluation, which reads the source). */
  regoSources(): { modules: RegoModule[]; regoVersion: 0 | 1 } {
    return regoSources(this.set.bundles, this.set.apiModules, this.defaultRegoVersion);
  }

  private async build(bundles: Bundle[], apiModules: ApiModule[]): Promise<PolicySet> {
    const entrypoints = new Map<string, WasmProgram>();
    for (const bundle of bundles) {
      for (const wasm of bundle.wasm) {
        const program = await WasmProgram.load(wasm.bytes, hostBuiltins, this.store, 'foreign');
        for (const entry of bundle.manifest.wasm ?? []) if (entry.module === wasm.path) entrypoints.set(entry.entrypoint, program);
      }
    }
    const { modules: regoModules, regoVersion } = regoSources(bundles, apiModules, this.defaultRegoVersion);
    if (regoModules.length > 0) {
      const compiled = await this.compiler.compile(regoModules, { regoVersion });
      const program = await WasmProgram.load(compiled.wasm, hostBuiltins, this.store, 'verdict');
      for (const name of compiled.entrypoints) entrypoints.set(name, program);
    }
    const entrypointPaths = [...entrypoints.keys()].map((name) => ({ name, segments: splitPath(name) }));
    return { bundles, apiModules, entrypoints, entrypointPaths };
  }
}

const encoder = new TextEncoder();

/** The Rego side of a policy set: bundles without wasm, and the Policy API's modules. */
/** The Rego modules of a set, and the version they compile as: 0 when any source (a bundle's manifest, or the default for the rest) says 0. */
function regoSources(bundles: Bundle[], apiModules: readonly ApiModule[], defaultVersion: 0 | 1): { modules: RegoModule[]; regoVersion: 0 | 1 } {
  const modules: RegoModule[] = [
    ...bundles.filter((b) => b.wasm.length === 0).flatMap((b) => b.modules.map((m) => ({ ...m, path: `${b.name}/${m.path}` }))),
    ...apiModules.map((m) => ({ path: m.id, source: m.source, packagePath: m.packagePath })),
  ];
  const versions = bundles.filter((b) => b.wasm.length === 0).map((b) => b.manifest.rego_version ?? defaultVersion);
  if (apiModules.length > 0) versions.push(defaultVersion);
  return { modules, regoVersion: versions.includes(0) ? 0 : 1 };
}

/** Copies the store's data into every instance of a set (each module has its own memory, so one copy each). */
function loadData(set: PolicySet): PolicySet {
  for (const program of new Set(set.entrypoints.values())) program.loadData();
  return set;
}

function lookup(value: unknown, rest: string[]): Evaluation {
  for (const key of rest) {
    value = childOf(value, key);
    if (value === undefined) return { defined: false };
  }
  return { defined: true, result: value };
}

function place(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

