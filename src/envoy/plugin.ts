// How `verdict run` serves Envoy and the HTTP proxies: the ext_authz gRPC server as a plugin in the
// server's life cycle (configured, like OPA with opa-envoy-plugin, by plugins.envoy_ext_authz_grpc), and
// the HTTP callout router mounted at /v1/authz when plugins.envoy_ext_authz_http is configured. A key
// present with no settings (`envoy_ext_authz_grpc:` in YAML, i.e. null) enables it with the defaults.
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Decide } from '../engine/engine.js';
import type { PluginStatus } from '../server/context.js';
import type { Plugin } from '../server/plugins.js';
import { HTTP_AUTHZ_MOUNT, HTTP_PLUGIN_NAME, parseEnvoyGrpcConfig, parseHttpAuthzConfig, PLUGIN_NAME, type EnvoyGrpcConfig } from './config.js';
import type { EnvoyExtAuthzGrpcServer, GrpcServerHooks } from './grpc-server.js';

export interface EnvoyWiring {
  plugins: Plugin[];
  mounts: { path: string; router: Router }[];
}

export interface EnvoyWiringOptions extends GrpcServerHooks {
  decide: Decide;
  logger: Logger;
  /** How long calls in flight may take to finish on shutdown. */
  graceMs: number;
}

/**
 * The plugins and routes the configuration asks for. The HTTP callout's modules (protobuf and Envoy's message
 * types among them) are loaded only when it is configured: every server thread would hold them otherwise.
 */
export async function envoyFromConfig(plugins: Record<string, unknown> | undefined, options: EnvoyWiringOptions): Promise<EnvoyWiring> {
  const wiring: EnvoyWiring = { plugins: [], mounts: [] };
  const { grpc, http } = envoySettings(plugins);
  if (grpc) wiring.plugins.push(new EnvoyGrpcPlugin(grpc, options));
  if (http) {
    const { httpAuthzRouter } = await import('./http-authz.js');
    wiring.mounts.push({ path: HTTP_AUTHZ_MOUNT, router: httpAuthzRouter(options.decide, { ...http, onInputError: options.onInputError }) });
  }
  return wiring;
}

/** The Envoy plugins' sections read and checked (throws EnvoyConfigError naming the key); opens nothing. */
export function envoySettings(plugins: Record<string, unknown> | undefined) {
  return {
    grpc: plugins && PLUGIN_NAME in plugins ? parseEnvoyGrpcConfig(plugins[PLUGIN_NAME]) : undefined,
    http: plugins && HTTP_PLUGIN_NAME in plugins ? parseHttpAuthzConfig(plugins[HTTP_PLUGIN_NAME]) : undefined,
  };
}

class EnvoyGrpcPlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  private state: PluginStatus['state'] = 'NOT_READY';
  private server?: EnvoyExtAuthzGrpcServer;

  constructor(
    private readonly config: EnvoyGrpcConfig,
    private readonly options: EnvoyWiringOptions,
  ) {}

  async start(): Promise<void> {
    // gRPC and protobuf are loaded when the plugin starts: every server process would hold them otherwise.
    const { EnvoyExtAuthzGrpcServer } = await import('./grpc-server.js');
    const { decide, ready, onInputError, logger, listenOn } = this.options;
    this.server ??= new EnvoyExtAuthzGrpcServer(this.config, decide, { ready, onInputError, logger, listenOn });
    await this.server.start();
    this.state = 'OK';
    logger.info({ addr: this.config.addr, port: this.server.port || undefined }, 'Starting gRPC server.');
  }

  async stop(): Promise<void> {
    this.state = 'NOT_READY';
    await this.server?.stop(this.options.graceMs);
    this.options.logger.info({ addr: this.config.addr }, 'gRPC server stopped.');
  }

  status(): PluginStatus {
    return { state: this.state };
  }
}
