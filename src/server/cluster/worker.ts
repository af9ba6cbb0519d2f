// One server thread of a `verdict run --workers N` server. The owner thread runs the bundle sources (downloads,
// bundle paths, files, admin uploads, discovery, status) and every change to the policy set and data; the
// replicas serve decisions and hand the owner every request that changes or reports on that state. Each change
// the owner commits is applied by every replica, in the owner's order, before the request that caused it is
// answered. Rego is compiled once, by the primary, for every thread (src/server/cluster/primary.ts).
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import type { CompiledPolicy, RegoCompiler } from '../../engine/compiler.js';
import { compileErrorFromWire, type WireCompileError } from '../../engine/compile-error.js';
import { applyWrite } from '../data-api.js';
import { prepareRuntimeSettings } from '../runtime-settings.js';
import type { ServerContext } from '../context.js';
import { healthProblem } from '../health-api.js';
import { forwardTo, ownerAnswers } from './forward.js';
import type { Change, MetricsJson, PipFigures, PrimaryMessage, Snapshot, WorkerMessage } from './protocol.js';
import { fromPayload, toPayload, type Payload } from './payload.js';
import type { PrimaryLink } from './transport.js';
import type { DecisionWriterHandle } from '../../decisionlog/shared-writer.js';
import { SharedData } from '../../engine/shared-data.js';

/** What startServer needs from a server thread of a multi-thread server. */
export interface ClusterMember {
  /** False in replicas: they run no bundle source, files, discovery or status plugin of their own. */
  readonly ownsSources: boolean;
  /** The server's `labels.id`, the same in every worker (status reports, decision-log events). */
  readonly instanceId: string;
  /** Before the plugins start: takes the running server's policy set and data, and wires replication. */
  join(ctx: ServerContext): Promise<void>;
  /** Replicas: hands a request only the owner answers to the owner; true when it did. */
  forward?(req: IncomingMessage, res: ServerResponse, url: string): boolean;
  /** The owner: serves the requests replicas hand over, on its private socket. */
  serveForwarded?(listener: RequestListener): Promise<Server>;
  /** This thread's own descriptor of a listening address the threads share (undefined: bind it). */
  listeningFd?(addr: string): number | undefined;
}

type Pending = { resolve: (value: never) => void; reject: (err: Error) => void };

export class ClusterWorker implements ClusterMember {
  readonly ownsSources: boolean;
  readonly instanceId: string;
  /** The process's shared data memory: this thread's one view of it. */
  readonly sharedData: SharedData;
  private readonly socketPath: string;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private seq = 0;
  private ctx?: ServerContext;
  private joined!: (ctx: ServerContext) => void;
  private started!: (snapshot: Snapshot | undefined) => void;
  /** Changes apply one after the other, after the snapshot, in the order the owner committed them. */
  private applying: Promise<unknown>;

  /** Settles when the primary asks this thread to shut down, as SIGTERM does in a single-worker server. */
  readonly stopRequested: Promise<void>;
  private stop!: () => void;

  constructor(private readonly link: PrimaryLink) {
    this.ownsSources = link.data.role === 'owner';
    this.instanceId = link.data.instanceId;
    this.sharedData = new SharedData(link.data.sharedData);
    this.socketPath = link.data.ownerSocket;
    this.stopRequested = new Promise((resolve) => (this.stop = resolve));
    const ctx = new Promise<ServerContext>((resolve) => (this.joined = resolve));
    const snapshot = new Promise<Snapshot | undefined>((resolve) => (this.started = resolve));
    this.applying = Promise.all([ctx, snapshot]).then(([c, s]) => (s ? applySnapshot(c, s) : undefined));
    link.onMessage((message) => this.receive(message));
    // Messages sent before a listener exists are lost: the primary starts talking to a worker once it says so.
    this.send({ verdict: 'join' });
  }

  /** Compiles through the primary, which compiles each set of modules once for every worker. */
  readonly compiler: RegoCompiler = {
    compile: async (modules, { regoVersion }) => {
      const id = this.nextId++;
      const answer = await this.ask<{ result?: CompiledPolicy; error?: WireCompileError }>(`compile:${id}`, { verdict: 'compile', id, modules, regoVersion });
      if (answer.error) throw compileErrorFromWire(answer.error);
      return answer.result!;
    },
  };

  async join(ctx: ServerContext): Promise<void> {
    this.ctx = ctx;
    this.joined(ctx);
    await this.applying;
    // The primary sums every worker's figures; a registry of that one set reads and prints them.
    ctx.clusterMetrics = async () => {
      const { metrics, pip } = await this.ask<{ metrics: MetricsJson; pip?: PipFigures }>(`metrics:${this.nextId}`, { verdict: 'metrics', id: this.nextId++ });
      return { registry: AggregatorRegistry.aggregate([metrics]), pip };
    };
    ctx.clusterHealth = (query) => this.ask<string | undefined>(`health:${this.nextId}`, { verdict: 'health', id: this.nextId++, query: query.toString() });
    if (!this.ownsSources) return;
    ctx.engine.onChange = (change) => this.replicate(change);
    ctx.onDataWrite = (write) => this.replicate({ kind: 'data', write });
    ctx.onSettingsChange = (settings) => this.replicate({ kind: 'settings', settings });
  }

  /** Tells the primary this worker serves; a replica waits for the owner's first one. */
  ready(): void {
    this.send({ verdict: 'ready' });
  }

  forward(req: IncomingMessage, res: ServerResponse, url: string): boolean {
    if (this.ownsSources || !ownerAnswers(req.method, url)) return false;
    forwardTo(this.socketPath, req, res, this.ctx!.encoding);
    return true;
  }

  async serveForwarded(listener: RequestListener): Promise<Server> {
    const server = createServer(listener);
    // The replicas keep their connections open (forward.ts): never closed for being idle.
    server.keepAliveTimeout = 0;
    // A crashed owner leaves its socket file; the directory is the primary's, owner-only.
    rmSync(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // exclusive: this worker binds the socket itself instead of sharing it through the primary.
      server.listen({ path: this.socketPath, exclusive: true }, () => resolve());
    });
    return server;
  }

  /** Sends a committed change to the replicas; settles once every one has applied it. */
  private replicate(change: Change): Promise<void> {
    const seq = ++this.seq;
    const done = this.expect<void>(`changed:${seq}`);
    let payload: Payload;
    try {
      payload = toPayload(change);
    } catch (err) {
      // This thread has the change and the replicas cannot get it (no memory for the buffer, say). It leaves at
      // once, before answering from a state the others lack; its replacement starts from a replica's state.
      console.error(`verdict: cannot hand a committed change to the other workers (${(err as Error).message}); restarting this worker`);
      process.exit(1);
    }
    this.send({ verdict: 'change', seq, payload });
    return done;
  }

  listeningFd(addr: string): number | undefined {
    return this.link.data.listening[addr]?.[0];
  }

  /** The thread's own descriptor of the Envoy gRPC port, served instead of binding its address. */
  get envoyGrpcSockets(): { fd: number }[] | undefined {
    return this.link.data.envoyGrpcFds?.map((fd) => ({ fd }));
  }

  /** The server's one decision-log writer, shared by every thread. */
  get decisionLogWriter(): DecisionWriterHandle | undefined {
    return this.link.data.decisionLogWriter;
  }

  private receive(message: PrimaryMessage): void {
    switch (message.verdict) {
      case 'start':
        this.started(message.payload === undefined ? undefined : fromPayload<Snapshot>(message.payload));
        return;
      case 'stop':
        this.stop();
        return;
      case 'change': {
        const { seq, payload } = message;
        // Read when its turn comes, so that only one change at a time is held as objects.
        this.applying = this.applying.then(async () => applyChange(this.ctx!, fromPayload<Change>(payload))).then(
          () => this.send({ verdict: 'applied', seq }),
          (err: Error) => this.send({ verdict: 'applied', seq, error: err.message }),
        );
        return;
      }
      case 'snapshot-request':
        // After every change already received, so the snapshot is the state the next change builds on.
        this.applying = this.applying.then(() => this.send({ verdict: 'snapshot', id: message.id, payload: toPayload(snapshotOf(this.ctx!)) }));
        return;
      case 'metrics-request':
        if (!this.ctx) this.send({ verdict: 'metrics-answer', id: message.id, metrics: [] });
        else this.ctx.metrics.registry.getMetricsAsJSON().then(
          (metrics) => this.send({ verdict: 'metrics-answer', id: message.id, metrics, pip: this.ctx?.enricher?.metrics.snapshot() }),
          (err: Error) => this.send({ verdict: 'metrics-answer', id: message.id, error: err.message }),
        );
        return;
      case 'health-request':
        this.send({ verdict: 'health-answer', id: message.id, problem: this.ctx ? healthProblem(this.ctx, new URLSearchParams(message.query)) : 'worker starting' });
        return;
      case 'changed':
        return this.settle(`changed:${message.seq}`, undefined);
      case 'compiled':
        return this.settle(`compile:${message.id}`, message);
      case 'metrics':
        return message.error ? this.fail(`metrics:${message.id}`, new Error(message.error)) : this.settle(`metrics:${message.id}`, { metrics: message.metrics ?? [], pip: message.pip });
      case 'health':
        return this.settle(`health:${message.id}`, message.problem);
    }
  }

  private ask<T>(key: string, message: WorkerMessage): Promise<T> {
    const answer = this.expect<T>(key);
    this.send(message);
    return answer;
  }

  private expect<T>(key: string): Promise<T> {
    return new Promise<T>((resolve, reject) => this.pending.set(key, { resolve: resolve as (value: never) => void, reject }));
  }

  private settle(key: string, value: unknown): void {
    this.pending.get(key)?.resolve(value as never);
    this.pending.delete(key);
  }

  private fail(key: string, err: Error): void {
    this.pending.get(key)?.reject(err);
    this.pending.delete(key);
  }

  private send(message: WorkerMessage): void {
    this.link.send(message);
  }
}

function snapshotOf(ctx: ServerContext): Snapshot {
  return { bundles: [...ctx.engine.bundles], apiModules: [...ctx.engine.apiModules], document: ctx.engine.store.document, settings: ctx.runtimeSettings };
}

/** Takes over a running server's state: its data first, then its bundles and modules in one compilation. */
async function applySnapshot(ctx: ServerContext, snapshot: Snapshot): Promise<void> {
  ctx.engine.store.put([], snapshot.document);
  await ctx.engine.activate(snapshot.bundles, snapshot.apiModules);
  if (snapshot.settings) await prepareRuntimeSettings(ctx, snapshot.settings)();
}

async function applyChange(ctx: ServerContext, change: Change): Promise<void> {
  if (change.kind === 'bundles') await ctx.engine.activate(change.bundles);
  else if (change.kind === 'modules') await ctx.engine.replaceModules(ctx.engine.apiModules.map((m) => m.id), change.apiModules);
  else if (change.kind === 'settings') await prepareRuntimeSettings(ctx, change.settings)();
  else applyWrite(ctx, change.write);
}
