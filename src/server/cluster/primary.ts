// The primary of a `verdict run --workers N` server: the process's main thread. It serves nothing itself: it
// binds the listening addresses, starts the server threads (one owner, N-1 replicas) each with its own
// descriptor of them, compiles Rego once for all of them, relays each change the owner commits to every replica
// and tells the owner when all have applied it, gives a new thread the running state before it serves,
// restarts a thread that dies, and answers /metrics and /health for the server as a whole. Signals reach this
// thread only: it has every thread shut down (servers closed, decision logs flushed) before the process exits.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RegoCompiler } from '../../engine/compiler.js';
import { CachingCompiler } from '../../engine/compile-cache.js';
import { compileErrorToWire } from '../../engine/compile-error.js';
import { CompileThread } from '../../engine/compile-thread.js';
import { releaseMemoryAfterStart } from '../../engine/memory-release.js';
import { sumSnapshots } from '../../pip/metrics.js';
import type { MetricsJson, PipFigures, PrimaryMessage, WorkerMessage } from './protocol.js';
import type { Payload } from './payload.js';
import { SharedListeners, type ListeningFds } from './shared-listeners.js';
import { startMember, type MemberLink } from './transport.js';
import { SharedDataPool } from '../../engine/shared-data.js';
import type { VerdictConfig } from '../../config/config.js';
import { DecisionLogConfigError } from '../../decisionlog/config.js';
import { DecisionLogError } from '../../decisionlog/errors.js';
import { writerHandleTransfer, type SharedDecisionWriter } from '../../decisionlog/shared-writer.js';
import { bindAddress, parseEnvoyGrpcConfig, PLUGIN_NAME as GRPC_PLUGIN } from '../../envoy/config.js';
import { openServerDecisionWriter } from '../../decisionlog/server-writer.js';
import { probePipAdapters } from '../../pip/index.js';
import { ServerTls } from '../tls.js';
import type { TlsOptions } from '../listen-options.js';
import { aggregateWorkerMetrics } from '../metrics.js';
import { boundedStep } from '../shutdown-step.js';

/** How long a worker has to answer a health or metrics question. */
const ANSWER_TIMEOUT_MS = 2000;
/**
 * How long a replica may take to apply a change (activating a large bundle takes seconds) before it is replaced:
 * the owner holds further changes until every replica has applied this one.
 */
const APPLY_TIMEOUT_MS = 120_000;
/** How long a thread that was ended (terminate()) may take to exit, and the compile thread to end, at shutdown. */
const END_TIMEOUT_MS = 5000;
/** How long the decision log may take to commit what it holds and close at shutdown. */
const DECISION_LOG_CLOSE_TIMEOUT_MS = 10_000;

interface Member {
  worker: MemberLink;
  role: 'owner' | 'replica';
  /** Listening to the primary's messages (sent before that, they would be lost). */
  joined: boolean;
  /** Sent its starting state: it receives every change from then on. */
  started: boolean;
  /** Serving (its server listens). */
  ready: boolean;
  /** Killed by the primary because its state may differ from the others': it is replaced, never fatal. */
  replaced?: boolean;
}

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** The `verdict run` arguments, for the threads. */
  args: string[];
  /** The server's configuration: the Envoy gRPC port and the decision log are opened here, once for all threads. */
  config: VerdictConfig;
  /** Every --addr and --diagnostic-addr, bound here and shared by the threads. */
  addrs: string[];
  /** The server's TLS files (--tls-cert-file and friends), when it serves TLS. */
  tls?: TlsOptions;
  /** How long the threads may take to shut down before they are ended. */
  stopTimeoutMs: number;
  compiler?: RegoCompiler;
}

export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { workers, logger } = options;
  // What the threads open and bad input can break is opened here first, before a port is bound or a thread
  // started, so start-up names the real problem (as a single-thread server does), never a busy port: the TLS
  // files, read as each thread reads them; the PIP adapters (a SQLite query that does not compile), opened and
  // closed again, as each thread opens its own; then the decision log (a corrupt or locked database ends the
  // process with its own exit code), kept for the threads.
  if (options.tls) new ServerTls(options.tls, 'off');
  if (options.config.pip) await probePipAdapters(options.config.pip);
  const decisionLogWriter = openDecisionWriter(options.config, logger);
  // Compiles run on a thread that ends when idle; their results stay cached here for the process's life.
  const compileThread = options.compiler ? undefined : new CompileThread();
  const compiler = options.compiler ?? new CachingCompiler(compileThread!, 'compile-thread');
  const grpcAddr = envoyGrpcAddr(options.config);
  if (grpcAddr !== undefined && options.addrs.includes(grpcAddr)) throw new Error(`cannot listen on ${grpcAddr}: it is also the Envoy gRPC plugin's address`);
  const listening = await SharedListeners.bind([...options.addrs, ...(grpcAddr ? [grpcAddr] : [])], options.tls !== undefined, { everyAddress: new Set(grpcAddr ? [grpcAddr] : []) });
  for (const failure of listening.unbound) logger.warn({ err: failure }, 'Envoy gRPC address not bound on every address its host name resolves to.');
  // Data loaded by one thread is read by all (shared-data.ts); a thread's slot is released when it ends.
  const dataPool = new SharedDataPool();
  const dataSlots = new Map<number, number>();
  const socketDir = mkdtempSync(join(tmpdir(), 'verdict-'));
  const ownerSocket = join(socketDir, 'owner.sock');
  const instanceId = randomUUID();
  const members = new Map<number, Member>();
  /** Changes waiting for replicas: seq → ids of the replicas that have not applied it yet. */
  const changes = new Map<number, Set<number>>();
  /** Snapshot requests: id → the worker that waits for it. */
  const snapshots = new Map<number, { from: number; to: number }>();
  /** Questions put to several workers: id → the answers still awaited. */
  const questions = new Map<number, { waiting: Set<number>; answer: (workerId: number, value: unknown) => void; end: () => void }>();
  let nextId = 0;
  let stopping = false;
  /** Called once every thread has exited, while stopping. */
  let threadsGone = () => {};

  const send = (member: Member | undefined, message: PrimaryMessage) => member?.worker.send(message);
  const owner = () => [...members.values()].find((m) => m.role === 'owner');
  const start = (role: Member['role'], fds: ListeningFds) => {
    let id = -1;
    const { [grpcAddr ?? '']: envoyGrpcFds, ...addrFds } = fds;
    const writer = decisionLogWriter?.handle();
    const sharedData = dataPool.handle();
    const data = { role, instanceId, ownerSocket, listening: addrFds, envoyGrpcFds, decisionLogWriter: writer, sharedData, args: options.args, config: options.config };
    const worker = startMember(data, {
      message: (message) => receive(id, message),
      error: (err) => logger.error({ thread: id, err: err.stack ?? err.message }, 'Worker thread failed.'),
      exit: (code) => exited(id, code),
    }, writer ? writerHandleTransfer(writer) : []);
    id = worker.id;
    dataSlots.set(id, sharedData.slot);
    members.set(id, { worker, role, joined: false, started: false, ready: false });
    startWhenPossible();
  };
  /** Starts replacement threads one after the other (each needs descriptors made for it). */
  let restarting = Promise.resolve();
  const restart = (role: Member['role']) => {
    restarting = restarting.then(async () => {
      const [fds] = await listening.forThreads(1);
      if (!stopping) start(role, fds);
    }).catch((err: Error) => {
      logger.error({ err: err.message }, 'Cannot start a worker thread; stopping.');
      process.exitCode = 1;
      stop();
    });
  };

  /** Gives every worker not yet started its state: the owner's (or, for a new owner, a replica's). */
  const startWhenPossible = () => {
    const current = owner();
    for (const member of members.values()) {
      if (!member.joined || member.started || [...snapshots.values()].some((s) => s.to === member.worker.id)) continue;
      if (member.role === 'owner') {
        const source = [...members.values()].find((m) => m.role === 'replica' && m.started && m.joined);
        if (source) requestSnapshot(source, member);
        else {
          member.started = true;
          send(member, { verdict: 'start' });
        }
      } else if (current?.ready) requestSnapshot(current, member);
    }
  };
  const requestSnapshot = (from: Member, to: Member) => {
    const id = nextId++;
    snapshots.set(id, { from: from.worker.id, to: to.worker.id });
    send(from, { verdict: 'snapshot-request', id });
  };

  const replace = (member: Member | undefined, message: string, err?: string) => {
    if (!member) return;
    logger.error({ thread: member.worker.id, ...(err ? { err } : {}) }, message);
    member.replaced = true;
    member.worker.kill();
  };

  const finishChange = (seq: number) => {
    changes.delete(seq);
    send(owner(), { verdict: 'changed', seq });
  };
  const applied = (workerId: number, seq: number) => {
    const waiting = changes.get(seq);
    if (!waiting) return;
    waiting.delete(workerId);
    if (waiting.size === 0) finishChange(seq);
  };

  /** Asks `targets` a question; `answer` hears each reply, `end` runs once all replied, one exited, or time ran out. */
  const ask = (targets: Member[], message: (id: number) => PrimaryMessage, answer: (workerId: number, value: unknown) => void, end: () => void) => {
    if (targets.length === 0) return end();
    const id = nextId++;
    const timer = setTimeout(() => finish(), ANSWER_TIMEOUT_MS);
    const finish = () => {
      if (!questions.delete(id)) return;
      clearTimeout(timer);
      end();
    };
    const waiting = new Set(targets.map((m) => m.worker.id));
    questions.set(id, {
      waiting,
      answer: (workerId, value) => {
        waiting.delete(workerId);
        answer(workerId, value);
        if (waiting.size === 0) finish();
      },
      end: finish,
    });
    for (const m of targets) send(m, message(id));
  };

  /** /health for the server: every worker serving, and healthy for the same parameters. */
  const askHealth = (from: Member, query: string, done: (problem?: string) => void) => {
    const all = [...members.values()];
    if (all.length < workers || all.some((m) => !m.ready)) return done(`${all.filter((m) => m.ready).length} of ${workers} workers are ready`);
    const others = all.filter((m) => m !== from);
    let problem: string | undefined;
    let answered = 0;
    ask(others, (id) => ({ verdict: 'health-request', id, query }), (_w, value) => {
      answered++;
      problem ??= value as string | undefined;
    }, () => done(problem ?? (answered < others.length ? 'a worker did not answer the health check' : undefined)));
  };

  /** /metrics for the server: every worker's registry, summed (process-wide figures once). */
  const askMetrics = (done: (answer: { metrics?: MetricsJson; pip?: PipFigures; error?: string }) => void) => {
    const replies: { metrics: MetricsJson; pip?: PipFigures }[] = [];
    ask([...members.values()].filter((m) => m.joined), (id) => ({ verdict: 'metrics-request', id }), (_w, value) => replies.push(value as (typeof replies)[number]), () => {
      const pips = replies.flatMap((r) => (r.pip ? [r.pip] : []));
      aggregateWorkerMetrics(replies.map((r) => r.metrics)).getMetricsAsJSON().then(
        (metrics) => done({ metrics, ...(pips.length > 0 ? { pip: sumSnapshots(pips) } : {}) }),
        (err: Error) => done({ error: err.message }),
      );
    });
  };

  /**
   * Sends a committed change to every started replica. The timer keeps the sequence number only, not the
   * message: the primary lets go of the change's buffer once it is sent.
   */
  const relayChange = (seq: number, payload: Payload) => {
    const replicas = [...members.values()].filter((r) => r.role === 'replica' && r.started);
    const waiting = new Set(replicas.map((r) => r.worker.id));
    changes.set(seq, waiting);
    for (const r of replicas) send(r, { verdict: 'change', seq, payload });
    if (replicas.length === 0) return finishChange(seq);
    setTimeout(() => {
      if (changes.get(seq) !== waiting) return;
      for (const id of waiting) replace(members.get(id), 'A worker did not apply a change in time; restarting it.');
    }, APPLY_TIMEOUT_MS).unref();
  };

  const receive = (workerId: number, m: WorkerMessage) => {
    const member = members.get(workerId);
    if (!member) return;
    switch (m.verdict) {
      case 'join':
        member.joined = true;
        startWhenPossible();
        return;
      case 'ready':
        member.ready = true;
        if (member.role === 'owner') startWhenPossible();
        return;
      case 'change': {
        relayChange(m.seq, m.payload);
        return;
      }
      case 'applied':
        // Its state would differ from the others': replace it; the new worker starts from the owner's state.
        if (m.error) replace(member, 'A worker could not apply a change the others applied; restarting it.', m.error);
        applied(workerId, m.seq);
        return;
      case 'snapshot': {
        const request = snapshots.get(m.id);
        snapshots.delete(m.id);
        const to = request && members.get(request.to);
        if (!to) return;
        to.started = true;
        send(to, { verdict: 'start', payload: m.payload });
        return;
      }
      case 'compile':
        compiler.compile(m.modules, { regoVersion: m.regoVersion }).then(
          (result) => send(member, { verdict: 'compiled', id: m.id, result }),
          (err: Error) => send(member, { verdict: 'compiled', id: m.id, error: compileErrorToWire(err) }),
        );
        return;
      case 'metrics':
        askMetrics((answer) => send(member, { verdict: 'metrics', id: m.id, ...answer }));
        return;
      case 'metrics-answer':
        questions.get(m.id)?.answer(workerId, { metrics: m.metrics ?? [], pip: m.pip });
        return;
      case 'health':
        askHealth(member, m.query, (problem) => send(member, { verdict: 'health', id: m.id, problem }));
        return;
      case 'health-answer':
        questions.get(m.id)?.answer(workerId, m.problem);
    }
  };

  const exited = (workerId: number, code: number) => {
    const member = members.get(workerId);
    members.delete(workerId);
    const slot = dataSlots.get(workerId);
    dataSlots.delete(workerId);
    if (slot !== undefined) void dataPool.releaseThread(slot);
    // A change the owner is waiting on no longer waits for this thread: while stopping too, or the owner's
    // shutdown would wait for it (its bundle activation holds the shutdown) and never end.
    for (const seq of [...changes.keys()]) applied(workerId, seq);
    if (stopping) {
      if (members.size === 0) threadsGone();
      return;
    }
    if (!member) return;
    if (!member.ready && !member.replaced) {
      // A thread that never served failed at start-up (bad config, a locked decision log): the others would too.
      logger.error({ thread: workerId, code }, 'Worker exited before it served; stopping.');
      process.exitCode = code || 1;
      stop();
      return;
    }
    logger.error({ thread: workerId, code, role: member.role }, 'Worker exited; starting another.');
    for (const [id, s] of snapshots) {
      if (s.from === workerId) snapshots.delete(id);
      if (s.to === workerId) snapshots.delete(id);
    }
    for (const question of questions.values()) if (question.waiting.has(workerId)) question.end();
    if (member.role === 'owner') changes.clear();
    restart(member.role);
    startWhenPossible();
  };

  const running = () => [...members.values()].map((m) => ({ thread: m.worker.id, role: m.role, ready: m.ready }));
  /** Every step bounded (shutdown-step.ts); a thread that could not be ended would hold up process.exit: killed then. */
  const shutdown = async () => {
    const gone = new Promise<void>((resolve) => (threadsGone = resolve));
    if (members.size === 0) threadsGone();
    // A thread that has not served yet has nothing to finish: it is ended, as a process killed before it set
    // up its signal handlers; the others shut down as a single-worker server does.
    for (const m of members.values()) {
      if (m.ready) m.worker.send({ verdict: 'stop' });
      else m.worker.kill();
    }
    let stuck = false;
    // A thread that does not finish its shutdown in time is ended, as a process would be killed.
    if ((await boundedStep(logger, 'worker threads shutting down', options.stopTimeoutMs, gone, running)) !== 'done') {
      for (const m of members.values()) m.worker.kill();
      stuck = (await boundedStep(logger, 'ending worker threads', END_TIMEOUT_MS, gone, running)) !== 'done';
    }
    rmSync(socketDir, { recursive: true, force: true });
    // Every thread has flushed its batches to the writer: it commits them before the process ends.
    if (decisionLogWriter) {
      const closed = await boundedStep(logger, 'closing the decision log', DECISION_LOG_CLOSE_TIMEOUT_MS, decisionLogWriter.close(), () => ({ file: decisionLogWriter.file }));
      if (closed !== 'done') process.exitCode ||= 1;
      stuck ||= closed === 'timed out';
    }
    if (compileThread) stuck ||= (await boundedStep(logger, 'ending the compile thread', END_TIMEOUT_MS, compileThread.close(), () => ({ compiles: compileThread.pendingCompiles }))) === 'timed out';
    logger.flush();
    // process.exit waits for every thread to end: one that would not (logged above) is not waited for.
    if (stuck) process.kill(process.pid, 'SIGKILL');
    process.exit(process.exitCode ?? 0);
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const fds = await listening.forThreads(workers);
  start('owner', fds[0]);
  for (let i = 1; i < workers; i++) start('replica', fds[i]);
  releaseMemoryAfterStart();
}

/** The Envoy ext_authz gRPC plugin's address, bound here like the HTTP ones (undefined: not configured). */
function envoyGrpcAddr(config: VerdictConfig): string | undefined {
  const plugins = config.plugins as Record<string, unknown> | undefined;
  if (!plugins || !(GRPC_PLUGIN in plugins)) return undefined;
  return bindAddress(parseEnvoyGrpcConfig(plugins[GRPC_PLUGIN]).addr);
}

/** The one decision-log writer of the server; a database that cannot be opened ends the process with its code. */
function openDecisionWriter(config: VerdictConfig, logger: Logger): SharedDecisionWriter | undefined {
  try {
    return openServerDecisionWriter(config, true);
  } catch (err) {
    if (err instanceof DecisionLogConfigError) throw new Error(`config: ${err.message}`);
    if (!(err instanceof DecisionLogError)) throw err;
    logger.flush();
    console.error(`verdict: ${err.message}`);
    process.exit(err.exitCode);
  }
}
