// http.send over TLS, under the reference OPA and under Verdict, against a loopback HTTPS service that requires
// a client certificate (a throwaway CA made with openssl): CA and client certificate from files, inline PEM
// from input, tls_insecure_skip_verify, and the two failures (unknown CA, no client certificate). Successful
// responses are compared whole (Date aside); failures by status_code and error code, since the messages quote
// each TLS library's own words (Go's "x509: certificate signed by unknown authority" vs OpenSSL's).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseBundle } from '../../src/bundle/bundle.js';
import { HttpSendClient } from '../../src/builtins/http-send/client.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { Engine } from '../../src/engine/engine.js';
import { OpaCliPlanner } from '../../src/engine/opa-compiler.js';
import { makeTlsFixtures, type TlsFixtures } from '../bundle/tls-fixtures.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { writeTree } from '../server/harness.js';

let tls: TlsFixtures;
let server: Server;
let base: string;

before(async () => {
  tls = makeTlsFixtures();
  server = createServer({ key: tls.serverKey, cert: tls.serverCert, ca: tls.caCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
    const body = JSON.stringify({ cn });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function policy(): string {
  const files = `"tls_client_cert_file": "${tls.clientCertPath}", "tls_client_key_file": "${tls.clientKeyPath}"`;
  return `package tls

from_files := http.send({"method": "GET", "url": "${base}/who", "tls_ca_cert_file": "${tls.caCertPath}", ${files}})

inline := http.send({"method": "GET", "url": "${base}/who", "tls_ca_cert": input.ca, "tls_client_cert": input.cert, "tls_client_key": input.key})

insecure := http.send({"method": "GET", "url": "${base}/who", "tls_insecure_skip_verify": true, ${files}})

unknown_ca := http.send({"method": "GET", "url": "${base}/who", "raise_error": false, ${files}})

no_client_cert := http.send({"method": "GET", "url": "${base}/who", "tls_ca_cert_file": "${tls.caCertPath}", "raise_error": false})
`;
}

function shape(rules: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(rules).map(([name, r]) => {
      if (r.status_code === 0) return [name, { status_code: 0, code: (r.error as { code: string }).code }];
      return [name, { ...r, headers: { ...(r.headers as object), date: ['<date>'] } }];
    }),
  );
}

test('TLS options (CA, client certificate, skip verify) behave as in opa eval', async () => {
  const { readFileSync } = await import('node:fs');
  const input = { ca: tls.caCert, cert: readFileSync(tls.clientCertPath, 'utf8'), key: readFileSync(tls.clientKeyPath, 'utf8') };
  const dir = writeTree({ 'tls.rego': policy(), 'input.json': JSON.stringify(input) });
  const { stdout } = await promisify(execFile)(referenceOpa(), ['eval', '-f', 'json', '-d', join(dir, 'tls.rego'), '-i', join(dir, 'input.json'), 'data.tls']);
  const theirs = JSON.parse(stdout).result[0].expressions[0].value;

  const engine = new Engine(new PlanningCompiler(new OpaCliPlanner(referenceOpa())), new HttpSendClient());
  await engine.activate([parseBundle('t', [{ path: 'tls/tls.rego', data: Buffer.from(policy()) }])]);
  const ours = (await engine.decide('tls', input)).result as Record<string, Record<string, unknown>>;

  assert.deepEqual(shape(ours), shape(theirs));
  assert.deepEqual(ours.from_files!.body, { cn: 'verdict-client' });
  assert.equal((ours.unknown_ca!.error as { code: string }).code, 'eval_http_send_network_error');
});
