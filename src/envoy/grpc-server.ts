// The Envoy external authorization gRPC server: envoy.service.auth.v3.Authorization/Check,
// grpc.health.v1.Health and, when enabled, server reflection. One instance has a start/stop life
// cycle so the process that owns it (verdict run) can order it with the other long-running parts.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type protobuf from 'protobufjs';
import { bindAddress, PLUGIN_NAME, type EnvoyGrpcConfig } from './config.js';
import type { Logger } from 'pino';
import { ReloadingServerCredentials } from './grpc-tls.js';
import type { Decide, DecisionOrigin } from '../engine/engine.js';
import { InputParseError } from './go-url.js';
import { checkRequestToInput } from './input.js';
import { activeTracing, type TraceContext } from '../tracing/index.js';
import { messageToInput } from './protomap.js';
import { CheckRequest, CheckResponse, HealthCheckRequest, HealthCheckResponse } from './proto.js';
import { reflectionDefinition } from './reflection.js';
import { serveOnSocket, type GrpcListenSocket, type InjectedListener } from './grpc-socket.js';
import { DecisionError, GrpcCode, toCheckResponse, type CheckResponseObject } from './response.js';

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';
const HEALTH_SERVICE = 'grpc.health.v1.Health';

function codec(type: protobuf.Type) {
  return {
    serialize: (value: object): Buffer => Buffer.from(type.encode(type.fromObject(value)).finish()),
    deserialize: (bytes: Buffer): protobuf.Message => type.decode(bytes),
  };
}

function method(path: string, request: protobuf.Type, response: protobuf.Type, responseStream = false) {
  const req = codec(request);
  const res = codec(response);
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
  };
}

// Service definitions built straight on protobufjs types, so the handler receives the decoded
// message itself (the policy input needs field presence, which an object conversion would lose).
export const authorizationService = {
  Check: method(`/${AUTHORIZATION_SERVICE}/Check`, CheckRequest, CheckResponse),
} satisfies grpc.ServiceDefinition;

export const healthService = {
  Check: method(`/${HEALTH_SERVICE}/Check`, HealthCheckRequest, HealthCheckResponse),
  Watch: method(`/${HEALTH_SERVICE}/Watch`, HealthCheckRequest, HealthCheckResponse, true),
} satisfies grpc.ServiceDefinition;

const SERVING = 1;
const NOT_SERVING = 2;

class DeadlineExceeded extends Error {}

// Records a callout whose input could not be built (opa-envoy-plugin logs those decisions too): the
// input as far as it was read, and the error. Returns the event's decision id when decisions are logged (a
// promise of it when the log stores each event before the answer).
export type InputErrorRecorder = (path: string, input: unknown, error: { code: string; message: string }, origin?: DecisionOrigin) => string | Promise<string> | undefined;

export interface GrpcServerHooks {
  /** Health reports SERVING only while this holds (e.g. once every bundle is activated). */
  ready?: () => boolean;
  onInputError?: InputErrorRecorder;
  /** Where certificate reloads of the TLS port are reported. */
  logger?: Logger;
  /**
   * Serve on these listening sockets instead of binding `addr` (a server thread given the shared port; more than
   * one where `addr` names a host with several addresses, each of which grpc-js would bind).
   */
  listenOn?: GrpcListenSocket[];
}

const tlsLabels = { cert: `plugins.${PLUGIN_NAME}.tls-cert-file`, key: `plugins.${PLUGIN_NAME}.tls-private-key-file`, ca: `plugins.${PLUGIN_NAME}.tls-ca-cert-file` };

// TLS when a certificate is configured, following its files while running; with a CA, client certificates
// signed by it are required.
function tlsCredentials(config: EnvoyGrpcConfig, logger: Logger | undefined): ReloadingServerCredentials | undefined {
  if (!config.tlsCertFile || !config.tlsPrivateKeyFile) return undefined;
  return ReloadingServerCredentials.load({ certFile: config.tlsCertFile, keyFile: config.tlsPrivateKeyFile, ...(config.tlsCaCertFile ? { caCertFile: config.tlsCaCertFile } : {}) }, tlsLabels, logger);
}

export class EnvoyExtAuthzGrpcServer {
  private server: grpc.Server | undefined;
  private boundPort = 0;
  private injected: InjectedListener[] = [];
  private tls: ReloadingServerCredentials | undefined;
  private serving = false;
  /** Checks received, numbered as OPA's req_id (as the HTTP listeners number their requests). */
  private checks = 0;
  private readonly watchers = new Set<grpc.ServerWritableStream<protobuf.Message, object>>();

  constructor(
    private readonly config: EnvoyGrpcConfig,
    private readonly decide: Decide,
    private readonly hooks: GrpcServerHooks = {},
  ) {}

  // The TCP port actually bound (useful with addr "127.0.0.1:0"); 0 before start or for unix sockets.
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.config.grpcMaxRecvMsgSize,
      'grpc.max_send_message_length': this.config.grpcMaxSendMsgSize,
    });
    server.addService(authorizationService, { Check: this.check });
    server.addService(healthService, { Check: this.healthCheck, Watch: this.healthWatch });
    if (this.config.enableReflection) {
      new ReflectionService(reflectionDefinition()).addToServer(server);
    }
    const tls = tlsCredentials(this.config, this.hooks.logger);
    const credentials = tls ?? grpc.ServerCredentials.createInsecure();
    if (this.hooks.listenOn?.length) {
      try {
        for (const socket of this.hooks.listenOn) this.injected.push(await serveOnSocket(server, credentials, socket, this.hooks.logger));
      } catch (err) {
        for (const listener of this.injected.splice(0)) listener.stopAccepting();
        server.forceShutdown();
        throw err;
      }
      this.boundPort = this.injected[0].port;
    } else {
      this.boundPort = await new Promise<number>((resolve, reject) => {
        server.bindAsync(bindAddress(this.config.addr), credentials, (err, port) =>
          err ? reject(new Error(`envoy_ext_authz_grpc: cannot listen on ${this.config.addr}: ${err.message}`)) : resolve(port),
        );
      });
    }
    this.server = server;
    this.tls = tls;
    tls?.startWatching();
    this.setServing(true);
  }

  // Health as reported to Envoy and load balancers; the owner can mark the server not serving
  // (for example while no policy is active) without closing the port.
  setServing(serving: boolean): void {
    this.serving = serving;
    for (const watcher of this.watchers) watcher.write({ status: this.healthStatus() });
  }

  // Stops accepting calls, lets calls in flight finish for up to graceMs, then closes the rest.
  async stop(graceMs = 5000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.setServing(false);
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
    this.server = undefined;
    const injected = this.injected;
    this.injected = [];
    for (const listener of injected) listener.stopAccepting();
    await this.tls?.stopWatchingFiles();
    this.tls = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const listener of injected) listener.destroyRemaining();
  }

  private healthStatus(): number {
    return this.serving && (this.hooks.ready?.() ?? true) ? SERVING : NOT_SERVING;
  }

  private knowsService(call: { request: protobuf.Message }): boolean {
    const name = (call.request as unknown as { service?: string }).service ?? '';
    return name === '' || name === AUTHORIZATION_SERVICE;
  }

  private readonly healthCheck: grpc.handleUnaryCall<protobuf.Message, object> = (call, callback) => {
    if (!this.knowsService(call)) return callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
    callback(null, { status: this.healthStatus() });
  };

  private readonly healthWatch: grpc.handleServerStreamingCall<protobuf.Message, object> = (call) => {
    if (!this.knowsService(call)) {
      call.write({ status: 3 }); // SERVICE_UNKNOWN
      return;
    }
    this.watchers.add(call);
    call.on('cancelled', () => this.watchers.delete(call));
    call.write({ status: this.healthStatus() });
  };

  private readonly check: grpc.handleUnaryCall<protobuf.Message, CheckResponseObject> = (call, callback) => {
    const tracing = activeTracing();
    const reqId = ++this.checks;
    const answer = (trace?: TraceContext) => this.answer(call.request, call.getDeadline(), { reqId, ...(trace ? { trace } : {}) });
    const answered = tracing ? tracing.continueFrom(traceHeaders(call), checkSpan, answer) : answer();
    answered.then(
      (response) => callback(null, response),
      (err: Error) => {
        const code = err instanceof DeadlineExceeded ? grpc.status.DEADLINE_EXCEEDED : grpc.status.UNKNOWN;
        callback({ code, details: err.message });
      },
    );
  };

  // Decision errors (undefined, evaluation errors, unusable results) become a failed call, as with
  // opa-envoy-plugin; an input that cannot be parsed becomes a 400 denial.
  private async answer(request: protobuf.Message, deadline: grpc.Deadline, origin: DecisionOrigin): Promise<CheckResponseObject> {
    let input;
    try {
      input = checkRequestToInput(request, { skipRequestBodyParse: this.config.skipRequestBodyParse });
    } catch (err) {
      if (!(err instanceof InputParseError)) throw err;
      await this.hooks.onInputError?.(this.config.path, messageToInput(CheckRequest, request as unknown as Record<string, unknown>), { code: err.code, message: err.message }, origin);
      return parseErrorResponse(err);
    }
    const { result, decisionId } = await withDeadline(this.decide(this.config.path, input, origin), deadline);
    if (result === undefined) throw new DecisionError('undefined decision');
    return toCheckResponse(result, decisionId ?? randomUUID(), { dryRun: this.config.dryRun });
  }
}

const checkSpan = () => ({ name: `${AUTHORIZATION_SERVICE}/Check`, attributes: { 'rpc.system': 'grpc', 'rpc.service': AUTHORIZATION_SERVICE, 'rpc.method': 'Check' } });

/**
 * Where a Check's trace context is read: the call's metadata (Envoy sends its own span there when it traces),
 * else the checked request's headers (the client's traceparent, passed through by a proxy that does not trace).
 */
function traceHeaders(call: grpc.ServerUnaryCall<protobuf.Message, CheckResponseObject>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string') metadata[k] = v;
  if (metadata.traceparent || metadata.b3 || metadata['x-b3-traceid']) return metadata;
  const checked = (call.request as unknown as { attributes?: { request?: { http?: { headers?: Record<string, string> } } } }).attributes?.request?.http?.headers;
  return checked ?? metadata;
}

function parseErrorResponse(err: InputParseError): CheckResponseObject {
  const message = `${err.code}: ${err.message}`;
  return {
    status: { code: GrpcCode.PERMISSION_DENIED, message },
    deniedResponse: { status: { code: 400 }, body: message },
  };
}

// A decision that outlives the caller's deadline is abandoned with DEADLINE_EXCEEDED. Evaluation in
// wasm is synchronous, so this also catches a policy that ran past the deadline before answering.
async function withDeadline<T>(pending: Promise<T>, deadline: grpc.Deadline): Promise<T> {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return pending;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded('deadline exceeded before the decision was made')), Math.max(0, at - Date.now()));
  });
  try {
    const value = await Promise.race([pending, expired]);
    if (Date.now() > at) throw new DeadlineExceeded('deadline exceeded before the decision was made');
    return value;
  } finally {
    clearTimeout(timer);
  }
}
