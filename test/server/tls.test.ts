// `verdict run` over TLS as `opa run` serves it: HTTPS for curl and the official @open-policy-agent/opa client,
// mutual TLS with --authentication=tls (compared with the real OPA), a certificate rotated on disk served after
// the refresh period while an open keep-alive connection carries on, and clear start-up errors for bad files.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest, Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { OPAClient } from '@open-policy-agent/opa';
import { HTTPClient } from '@open-policy-agent/opa/lib/http.js';
import { makeCerts, type TestCerts } from './certs.js';
import { ServerTls, watchTlsFiles } from '../../src/server/tls.js';
import { listenOptionsFromFlags, type TlsOptions } from '../../src/server/listen-options.js';
import { expectStartFailure, spawnServer, waitUntil, type RunningProcess } from './processes.js';
import { eventually } from '../eventually.js';
import { send, writeTree } from './harness.js';
import { freePort } from '../free-port.js';

const policy = `package app

allow if input.user == "alice"
`;

// Client certificate subjects reach the policy as OPA gives them: the identity in RFC 2253 order, and the
// certificates' parsed fields.
const authz = `package system.authz

default allow := false

allow if input.path == ["health"]

allow if {
  input.identity == "CN=client,O=Acme"
  input.client_certificates[0].Subject.CommonName == "client"
  input.client_certificates[0].Subject.Organization == ["Acme"]
}
`;

let certs: TestCerts;
let bundle: string;

before(() => {
  certs = makeCerts();
  bundle = writeTree({ '.manifest': JSON.stringify({ revision: 'tls-1', roots: ['app', 'system'] }), 'app/app.rego': policy, 'system/authz.rego': authz });
});

interface CurlResult {
  code: number;
  stdout: string;
}

function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '5', ...args], (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
}

interface Tls {
  ca?: string;
  cert?: string;
  key?: string;
}

/** A fetch for the official client that speaks TLS with our CA (and a client certificate), over node:https. */
function tlsFetcher(tls: Tls, agent?: Agent) {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    return new Promise((resolve, reject) => {
      const options = { method: req.method, headers: Object.fromEntries(req.headers), ...readTls(tls), ...(agent ? { agent } : {}) };
      const r = httpsRequest(req.url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: res.headers as Record<string, string> })));
      });
      r.on('error', reject);
      r.end(body);
    });
  };
}

function readTls(tls: Tls) {
  return { ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}), ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}), ...(tls.key ? { key: readFileSync(tls.key) } : {}) };
}

async function startTls(kind: 'opa' | 'verdict', flags: string[]): Promise<{ server: RunningProcess; url: string }> {
  const port = await freePort();
  const server = spawnServer(kind, ['--log-level', 'error', '--addr', `127.0.0.1:${port}`, ...flags, '-b', bundle]);
  const url = `https://127.0.0.1:${port}`;
  await waitUntil(server, async () => (await curl(['--cacert', certs.ca, `${url}/health`])).stdout === '{}\n');
  return { server, url };
}

test('HTTPS: curl and the official client reach Verdict; plain HTTP on the port does not', async () => {
  const { server, url } = await startTls('verdict', ['--tls-cert-file', certs.serverA.cert, '--tls-private-key-file', certs.serverA.key]);
  try {
    const decided = await curl(['--cacert', certs.ca, '-d', '{"input":{"user":"alice"}}', `${url}/v1/data/app/allow`]);
    assert.equal(decided.code, 0);
    assert.equal(JSON.parse(decided.stdout).result, true);
    // Without our CA the server's certificate is not trusted.
    assert.notEqual((await curl([`${url}/health`])).code, 0);
    const client = new OPAClient(url, { sdk: { httpClient: new HTTPClient({ fetcher: tlsFetcher({ ca: certs.ca }) }) } });
    assert.equal(await client.evaluate('app/allow', { user: 'alice' }), true);
    assert.equal(await client.evaluate('app/allow', { user: 'mallory' }), undefined);
    await assert.rejects(send(url.replace('https:', 'http:'), 'GET', '/health'));
  } finally {
    await server.stop();
  }
});

test('--min-tls-version 1.3 refuses a TLS 1.2 client', async () => {
  const { server, url } = await startTls('verdict', ['--tls-cert-file', certs.serverA.cert, '--tls-private-key-file', certs.serverA.key, '--min-tls-version', '1.3']);
  try {
    assert.notEqual((await curl(['--cacert', certs.ca, '--tls-max', '1.2', `${url}/health`])).code, 0);
    assert.equal((await curl(['--cacert', certs.ca, '--tlsv1.3', `${url}/health`])).stdout, '{}\n');
  } finally {
    await server.stop();
  }
});

for (const kind of ['opa', 'verdict'] as const) {
  test(`mTLS (${kind}): the client certificate is the identity; no certificate or an untrusted one is refused`, async () => {
    const flags = ['--tls-cert-file', certs.serverA.cert, '--tls-private-key-file', certs.serverA.key, '--tls-ca-cert-file', certs.ca, '--authentication=tls', '--authorization=basic'];
    const port = await freePort();
    const server = spawnServer(kind, ['--log-level', 'error', '--addr', `127.0.0.1:${port}`, ...flags, '-b', bundle]);
    const url = `https://127.0.0.1:${port}`;
    const withCert = ['--cacert', certs.ca, '--cert', certs.client.cert, '--key', certs.client.key];
    try {
      await waitUntil(server, async () => (await curl([...withCert, `${url}/health`])).stdout === '{}\n');
      const decided = await curl([...withCert, '-d', '{"input":{"user":"alice"}}', `${url}/v1/data/app/allow`]);
      assert.equal(JSON.parse(decided.stdout).result, true, decided.stdout);
      // The handshake itself fails: no answer at all.
      const without = await curl(['--cacert', certs.ca, `${url}/health`]);
      assert.notEqual(without.code, 0);
      assert.equal(without.stdout, '');
      const stranger = await curl(['--cacert', certs.ca, '--cert', certs.stranger.cert, '--key', certs.stranger.key, `${url}/health`]);
      assert.notEqual(stranger.code, 0);
      assert.equal(stranger.stdout, '');
      const client = new OPAClient(url, { sdk: { httpClient: new HTTPClient({ fetcher: tlsFetcher({ ca: certs.ca, cert: certs.client.cert, key: certs.client.key }) }) } });
      assert.equal(await client.evaluate('app/allow', { user: 'alice' }), true);
      const noCert = new OPAClient(url, { sdk: { httpClient: new HTTPClient({ fetcher: tlsFetcher({ ca: certs.ca }) }) } });
      await assert.rejects(noCert.evaluate('app/allow', { user: 'alice' }));
    } finally {
      await server.stop();
    }
  });
}

/** The CN of the certificate the server at `url` presents to a new connection. */
function peerCn(url: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const r = httpsRequest(`${url}/health`, { ca: readFileSync(certs.ca), agent: false }, (res) => {
      resolve(String((res.socket as TLSSocket).getPeerCertificate().subject.CN));
      res.resume();
    });
    r.on('error', reject);
    r.end();
  });
}

test('a certificate replaced on disk is served after --tls-cert-refresh-period; an open keep-alive connection carries on', async () => {
  const live = writeTree({ 'cert.pem': readFileSync(certs.serverA.cert, 'utf8'), 'key.pem': readFileSync(certs.serverA.key, 'utf8') });
  const { server, url } = await startTls('verdict', ['--tls-cert-file', `${live}/cert.pem`, '--tls-private-key-file', `${live}/key.pem`, '--tls-cert-refresh-period', '200ms']);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<{ cn: string; socket: TLSSocket; status: number }>((resolve, reject) => {
      const r = httpsRequest(`${url}/health`, { ca: readFileSync(certs.ca), agent }, (res) => {
        const socket = res.socket as TLSSocket;
        const cn = String(socket.getPeerCertificate().subject.CN);
        res.resume();
        res.on('end', () => resolve({ cn, socket, status: res.statusCode ?? 0 }));
      });
      r.on('error', reject);
      r.end();
    });
  try {
    const first = await get();
    assert.equal(first.cn, 'verdict-a');
    copyFileSync(certs.serverB.key, `${live}/key.pem`);
    copyFileSync(certs.serverB.cert, `${live}/cert.pem`);
    // A new connection gets the new certificate once the refresh period has passed.
    await eventually('a new connection to get the new certificate', async () => (await peerCn(url)) === 'verdict-b');
    // The same socket, still open, still answering.
    const again = await get();
    assert.equal(again.socket, first.socket);
    assert.equal(again.status, 200);
    assert.equal(again.cn, 'verdict-a');
    const fresh = await curl(['--cacert', certs.ca, '-v', `${url}/health`]);
    assert.equal(fresh.stdout, '{}\n');
  } finally {
    agent.destroy();
    await server.stop();
  }
});

test('a certificate replaced on disk is picked up without a refresh period too (the files are watched)', async () => {
  const live = writeTree({ 'cert.pem': readFileSync(certs.serverA.cert, 'utf8'), 'key.pem': readFileSync(certs.serverA.key, 'utf8') });
  const { server, url } = await startTls('verdict', ['--tls-cert-file', `${live}/cert.pem`, '--tls-private-key-file', `${live}/key.pem`]);
  try {
    assert.equal(await peerCn(url), 'verdict-a');
    copyFileSync(certs.serverB.key, `${live}/key.pem`);
    copyFileSync(certs.serverB.cert, `${live}/cert.pem`);
    await eventually('a new connection to get the new certificate', async () => (await peerCn(url)) === 'verdict-b');
  } finally {
    await server.stop();
  }
});

test('the TLS file watcher reads the files once when it is ready, so a replacement made before then is not missed', async () => {
  const live = mkdtempSync(join(tmpdir(), 'verdict-tls-watch-'));
  copyFileSync(certs.serverA.cert, join(live, 'cert.pem'));
  copyFileSync(certs.serverA.key, join(live, 'key.pem'));
  let calls = 0;
  const stop = watchTlsFiles({ certFile: join(live, 'cert.pem'), keyFile: join(live, 'key.pem') }, 0, () => calls++);
  try {
    // Nothing is written: the one call is the read at readiness.
    await eventually('the watcher read the files when ready', () => calls > 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls, 1);
  } finally {
    await stop();
  }
});

test('bad TLS files stop start-up with an error naming the file', async () => {
  const mismatch = await expectStartFailure('verdict', ['--addr', '127.0.0.1:0', '--tls-cert-file', certs.serverA.cert, '--tls-private-key-file', certs.serverB.key, '-b', bundle]);
  assert.notEqual(mismatch.code, 0);
  assert.match(mismatch.output, /--tls-private-key-file \S+server-b\.key does not match the certificate in --tls-cert-file \S+server-a\.pem/);
  const load = (files: Partial<TlsOptions>) => () => new ServerTls({ certFile: certs.serverA.cert, keyFile: certs.serverA.key, minVersion: 'TLSv1.2', refreshMs: 0, ...files }, 'off');
  assert.throws(load({ certFile: '/nonexistent/cert.pem' }), /--tls-cert-file \/nonexistent\/cert\.pem: no such file/);
  assert.throws(load({ keyFile: certs.dir }), new RegExp(`--tls-private-key-file ${certs.dir}: `));
  assert.throws(load({ certFile: certs.serverA.key }), /--tls-cert-file \S+server-a\.key: not a PEM certificate/);
  assert.throws(load({ keyFile: certs.serverA.cert }), /--tls-private-key-file \S+server-a\.pem: not a PEM private key/);
  assert.throws(load({ caCertFile: '/nonexistent/ca.pem' }), /--tls-ca-cert-file \/nonexistent\/ca\.pem: no such file/);
  assert.doesNotThrow(load({ caCertFile: certs.ca }));
});

test('unknown flag values are refused by name', async () => {
  const refused = await expectStartFailure('verdict', ['--addr', '127.0.0.1:0', '--authentication=password', '-b', bundle]);
  assert.equal(refused.code, 2);
  assert.match(refused.output, /--authentication password: expected token, tls or off/);
  for (const [flags, message] of [
    [{ authorization: 'rbac' }, /--authorization rbac: expected basic or off/],
    [{ 'min-tls-version': '1.4' }, /--min-tls-version 1\.4: expected one of 1\.0, 1\.1, 1\.2, 1\.3/],
    [{ 'tls-cert-refresh-period': 'soon' }, /--tls-cert-refresh-period soon/],
    [{ h2c: true }, /--h2c is not supported/],
    [{ authentication: 'tls' }, /--authentication=tls needs --tls-ca-cert-file/],
    [{ 'tls-cert-file': certs.serverA.cert }, /--tls-cert-file and --tls-private-key-file must be given together/],
    [{ 'unix-socket-perm': 'rw' }, /--unix-socket-perm rw/],
    [{ addr: ['ftp://127.0.0.1:1'] }, /invalid url scheme "ftp"/],
    [{ addr: ['https://127.0.0.1:0'] }, /https needs --tls-cert-file/],
    [{ 'diagnostic-addr': ['127.0.0.1'] }, /--addr 127\.0\.0\.1: expected HOST:PORT/],
  ] as [Parameters<typeof listenOptionsFromFlags>[0], RegExp][]) {
    assert.throws(() => listenOptionsFromFlags(flags), message);
  }
});
