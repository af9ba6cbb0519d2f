// A gRPC ext_authz client (the role Envoy plays) built from Verdict's own .proto declarations.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { authorizationService, healthService } from '../../src/envoy/grpc-server.js';
import { CheckRequest, CheckResponse } from '../../src/envoy/proto.js';

const AuthorizationClient = grpc.makeGenericClientConstructor(authorizationService, 'Authorization');
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export interface CheckOutcome {
  error?: { code: number; details: string };
  response?: Record<string, unknown>;
}

type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: protobuf.Message) => void) => void;

export class ExtAuthzClient {
  private readonly client: grpc.Client;
  readonly health: grpc.Client;

  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.client = new AuthorizationClient(address, credentials);
    this.health = new HealthClient(address, credentials);
  }

  // Sends a CheckRequest given in protobufjs plain-object form and returns the response as a plain
  // object (enums and 64-bit numbers as numbers), or the gRPC error.
  check(request: Record<string, unknown>, timeoutMs = 10_000): Promise<CheckOutcome> {
    return this.checkMessage(CheckRequest.fromObject(request), timeoutMs);
  }

  checkMessage(request: unknown, timeoutMs = 10_000): Promise<CheckOutcome> {
    const call = (this.client as unknown as { Check: Unary }).Check.bind(this.client);
    return new Promise((resolve) => {
      call(request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs, waitForReady: true } as grpc.CallOptions, (err, res) => {
        if (err) resolve({ error: { code: err.code, details: err.details } });
        else resolve({ response: CheckResponse.toObject(res as protobuf.Message, { enums: Number, longs: Number }) });
      });
    });
  }

  healthCheck(service = ''): Promise<{ status?: number; code?: number }> {
    const call = (this.health as unknown as { Check: Unary }).Check.bind(this.health);
    return new Promise((resolve) => {
      call({ service }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => {
        if (err) resolve({ code: err.code });
        else resolve({ status: (res as unknown as { status: number }).status });
      });
    });
  }

  close(): void {
    this.client.close();
    this.health.close();
  }
}

// A CheckRequest as Envoy sends it for an HTTP request, in protobufjs plain-object form.
export function httpCheckRequest(http: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    attributes: {
      source: { address: { socketAddress: { address: '10.0.0.7', portValue: 51234 } }, principal: 'spiffe://cluster.local/ns/default/sa/client' },
      destination: { address: { socketAddress: { address: '10.0.0.8', portValue: 8080 } } },
      request: {
        time: { seconds: 1764000000, nanos: 123000000 },
        http: { id: '42', method: 'GET', host: 'api.example.com', scheme: 'http', protocol: 'HTTP/1.1', ...http },
      },
      ...extra,
    },
  };
}
