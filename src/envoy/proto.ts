// Loads Verdict's own .proto declarations (src/envoy/proto/) once and exposes the message types
// the ext_authz server and its clients encode and decode.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// The .proto files stay in src/; compiled code runs from dist/src/envoy/, three levels below the root.
export const protoDir = fileURLToPath(new URL('../../../src/envoy/proto/', import.meta.url));

export const protoFiles = [
  'envoy/service/auth/v3/external_auth.proto',
  'grpc/health/v1/health.proto',
];

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports resolve inside protoDir, except google/protobuf/* which protobufjs ships itself.
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? target : protoDir + target;
  root.loadSync(protoFiles);
  root.resolveAll();
  return root;
}

export const protoRoot = loadRoot();

export const CheckRequest = protoRoot.lookupType('envoy.service.auth.v3.CheckRequest');
export const CheckResponse = protoRoot.lookupType('envoy.service.auth.v3.CheckResponse');
export const HealthCheckRequest = protoRoot.lookupType('grpc.health.v1.HealthCheckRequest');
export const HealthCheckResponse = protoRoot.lookupType('grpc.health.v1.HealthCheckResponse');
export const StatusCode = protoRoot.lookupEnum('envoy.type.v3.StatusCode');
