// Runs Verdict's ext_authz gRPC server on a given port with a policy compiled to wasm by the
// reference OPA, for scripts/bench-envoy.sh. Usage: node dist/scripts/bench-envoy-server.js <policy.rego> <port>
import { readFileSync } from 'node:fs';
import { parseEnvoyGrpcConfig } from '../src/envoy/config.js';
import { EnvoyExtAuthzGrpcServer } from '../src/envoy/grpc-server.js';
import { wasmDecide } from '../test/envoy/wasm-decide.js';

const [policyFile, port] = process.argv.slice(2);
const server = new EnvoyExtAuthzGrpcServer(
  parseEnvoyGrpcConfig({ addr: `127.0.0.1:${port}` }),
  await wasmDecide(readFileSync(policyFile, 'utf8'), ['envoy/authz/allow']),
);
await server.start();
console.log(`verdict ext_authz listening on 127.0.0.1:${server.port}`);
process.on('SIGTERM', () => void server.stop(1000).then(() => process.exit(0)));
