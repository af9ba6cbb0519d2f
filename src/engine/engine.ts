// The engine: the active policy set (wasm programs + their entrypoints) over the data store, and the
// Decide function every front end (REST, Envoy, gateways) calls. Activation builds the whole new set first
// and swaps it in one assignment, so the previous set keeps serving until the new one is ready.
import { checkBundlesDoNotOverlap, isObject, type Bundle, type RegoModule } from '../bundle/bundle.js';
import { hostBuiltins } from '../builtins/index.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { HttpSendSession, NeedsResponse, withSession } from '../builtins/http-send/session.js';
import type { RegoCompiler } from './compiler.js';
import { evaluateWithHttpSend } from './http-send-loop.js';
import { WasmProgram } from './program.js';
import { DataStore, childOf, splitPath } from './store.js';

/** The shared decision contract (BRIEF.md): path like "envoy/authz/allow"; result absent = undefined. */
export type Decide = (path: string, input: unknown) => Promise<{ result?: unknown; decisionId?: string }>;

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
}

export class Engine {
  readonly store = new DataStore();
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
  async activate(bundles: Bundle[]): Promise<void> {
    checkBundlesDoNotOverlap(bundles);
    const next = await this.build(bundles, this.set.apiModules);
    // From here to the swap nothing awaits, so no decision sees the new data with the old policies, and the
    // data is in the new instances before they serve the first decision.
    this.store.activate(bundles);
    loadData(next);
    this.set = next;
  }

  /**
   * Rego version for modules that do not state one (API modules, bundles without `rego_version` in their
   * manifest): 1, or 0 under `--v0-compatible`.
   */
  defaultRegoVersion: 0 | 1 = 1;

  /** Policy API: adds or replaces a module, recompiling the Rego side of the policy set. */
  async putModule(module: ApiModule): Promise<void> {
    await this.replaceModules([module.id], [module]);
  }

  /** Removes the modules with the given ids and adds `modules`, in one compilation (files named to `verdict run`). */
  async replaceModules(removeIds: string[], modules: ApiModule[]): Promise<void> {
    const dropped = new Set([...removeIds, ...modules.map((m) => m.id)]);
    const apiModules = [...this.set.apiModules.filter((m) => !dropped.has(m.id)), ...modules];
    this.set = loadData(await this.build(this.set.bundles, apiModules));
  }

  async deleteModule(id: string): Promise<boolean> {
    if (!this.set.apiModules.some((m) => m.id === id)) return false;
    this.set = loadData(await this.build(this.set.bundles, this.set.apiModules.filter((m) => m.id !== id)));
    return true;
  }

  /**
   * Evaluates the document at `path` (segments under data). `input` is JSON text or undefined.
   * An entrypoint at or above the path is evaluated and the rest of the path looked up in its result;
   * otherwise the base data at the path is overlaid with every entrypoint below it.
   * Synchronous unless the policies call http.send: then a promise, settled once the requests are fetched.
   */
  evaluate(path: string[], input: Uint8Array | undefined): Evaluation | Promise<Evaluation> {
    return evaluateWithHttpSend(this.httpSend, () => this.evaluateOnce(path, input));
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
    let value = this.store.read(path);
    if (below.length === 0) return value === undefined ? { defined: false } : { defined: true, result: value };
    value = isObject(value) ? structuredClone(value) : {};
    for (const e of below) {
      const rs = entrypoints.get(e.name)!.evaluate(e.name, input);
      if (rs.length > 0) place(value as Record<string, unknown>, e.segments.slice(path.length), rs[0].result);
    }
    return { defined: true, result: value };
  }

  /** The Decide contract for PEP adapters. */
  readonly decide: Decide = async (path, input) => {
    const text = input === undefined ? undefined : encoder.encode(JSON.stringify(input));
    const outcome = this.evaluate(splitPath(path), text);
    const evaluation = outcome instanceof Promise ? await outcome : outcome;
    return evaluation.defined ? { result: evaluation.result } : {};
  };

  /** True when a rule defines the path or a document above it (OPA then says "document undefined", not "missing"). */
  hasRulesAt(path: string[]): boolean {
    return this.set.entrypointPaths.some((e) => e.segments.length <= path.length && e.segments.every((s, i) => path[i] === s));
  }

  private async build(bundles: Bundle[], apiModules: ApiModule[]): Promise<PolicySet> {
    const entrypoints = new Map<string, WasmProgram>();
    for (const bundle of bundles) {
      for (const wasm of bundle.wasm) {
        const program = await WasmProgram.load(wasm.bytes, hostBuiltins, this.store, 'foreign');
        for (const entry of bundle.manifest.wasm ?? []) if (entry.module === wasm.path) entrypoints.set(entry.entrypoint, program);
      }
    }
    const regoModules: RegoModule[] = [
      ...bundles.filter((b) => b.wasm.length === 0).flatMap((b) => b.modules.map((m) => ({ ...m, path: `${b.name}/${m.path}` }))),
      ...apiModules.map((m) => ({ path: m.id, source: m.source, packagePath: m.packagePath })),
    ];
    if (regoModules.length > 0) {
      const versions = bundles.filter((b) => b.wasm.length === 0).map((b) => b.manifest.rego_version ?? this.defaultRegoVersion);
      if (apiModules.length > 0) versions.push(this.defaultRegoVersion);
      const regoVersion = versions.includes(0) ? 0 : 1;
      const compiled = await this.compiler.compile(regoModules, { regoVersion });
      const program = await WasmProgram.load(compiled.wasm, hostBuiltins, this.store, 'verdict');
      for (const name of compiled.entrypoints) entrypoints.set(name, program);
    }
    const entrypointPaths = [...entrypoints.keys()].map((name) => ({ name, segments: splitPath(name) }));
    return { bundles, apiModules, entrypoints, entrypointPaths };
  }
}

const encoder = new TextEncoder();

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

