// http.send under the reference OPA and under Verdict, against the same loopback fixture service: one shared
// policy whose rules cover a constant request, a request built from input, two dependent requests,
// raise_error false on a closed port, a timeout, non-2xx statuses, JSON / text / YAML bodies (and ones that do
// not decode), redirects, the
// intra-query cache and malformed requests. `opa eval` answers once; Verdict's engine answers with each
// planner (OPA's plan and ours, both through our wasm back end). Results are compared rule by rule, field by
// field, and the requests the fixture saw are compared too (same requests, same number of times).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { isDeepStrictEqual, promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBundle } from '../../src/bundle/bundle.js';
import { HttpSendClient } from '../../src/builtins/http-send/client.js';
import { PlanningCompiler, type RegoPlanner } from '../../src/engine/compiler.js';
import { Engine } from '../../src/engine/engine.js';
import { OpaCliPlanner } from '../../src/engine/opa-compiler.js';
import { VerdictPlanner } from '../../src/engine/verdict-planner.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { closedPortUrl, sendJson, startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';

let svc: FixtureService;
let closed: string;
let counter = 0;

function policy(base: string, down: string): string {
  return `package hs

constant := http.send({"method": "GET", "url": "${base}/json"})

from_input := http.send({
	"method": "post",
	"url": concat("", ["${base}/echo/", input.user]),
	"headers": {"X-Trace": input.trace},
	"body": {"user": input.user, "n": input.n},
})

raw_body_post := http.send({"method": "PUT", "url": "${base}/echo/raw", "raw_body": "plain words", "headers": {"Content-Type": "text/plain"}})

step1 := http.send({"method": "GET", "url": "${base}/step1"}).body

dependent := http.send({"method": "GET", "url": concat("", ["${base}", step1.next])}).body

refused := http.send({"method": "GET", "url": "${down}/x", "raise_error": false})

refused_raises := http.send({"method": "GET", "url": "${down}/x"})

refused_is_undefined if not http.send({"method": "GET", "url": "${down}/y"})

timed_out := http.send({"method": "GET", "url": "${base}/slow", "timeout": "300ms", "raise_error": false})

not_found := http.send({"method": "GET", "url": "${base}/missing"})

server_error := http.send({"method": "GET", "url": "${base}/fail"})

text := http.send({"method": "GET", "url": "${base}/text"})

forced_json := http.send({"method": "GET", "url": "${base}/json-as-text", "force_json_decode": true}).body

yaml := http.send({"method": "GET", "url": "${base}/yaml"}).body

bad_json := http.send({"method": "GET", "url": "${base}/bad-json"})

bad_yaml := http.send({"method": "GET", "url": "${base}/bad-yaml", "raise_error": false})

redirect_not_followed := http.send({"method": "GET", "url": "${base}/redirect"})

redirect_followed := http.send({"method": "GET", "url": "${base}/redirect", "enable_redirect": true})

counted := [http.send({"method": "GET", "url": "${base}/counter"}).body, http.send({"method": "GET", "url": "${base}/counter"}).body]

unknown_field := http.send({"method": "GET", "url": "${base}/json", "retries": 3, "raise_error": false})

missing_url := http.send({"method": "GET", "raise_error": false})

force_cache_without_duration := http.send({"method": "GET", "url": "${base}/json", "force_cache": true, "raise_error": false})

bad_timeout := http.send({"method": "GET", "url": "${base}/json", "timeout": "soon", "raise_error": false})

unknown_field_raises := http.send({"method": "GET", "url": "${base}/json", "retries": 3})

caching_mode_other := http.send({"method": "GET", "url": "${base}/json", "caching_mode": "fast"}).status_code

header_not_string := http.send({"method": "GET", "url": "${base}/json", "headers": {"a": 1}, "raise_error": false})

headers_not_object := http.send({"method": "GET", "url": "${base}/json", "headers": [1], "raise_error": false})

method_not_string := http.send({"method": 1, "url": "${base}/json", "raise_error": false})

bool_as_string := http.send({"method": "GET", "url": "${base}/json", "enable_redirect": "true", "raise_error": false})

bool_as_number := http.send({"method": "GET", "url": "${base}/redirect", "enable_redirect": 1}).status_code

unsupported_scheme := http.send({"method": "GET", "url": "ftp://127.0.0.1:9/x", "raise_error": false})

duration_as_string := http.send({"method": "GET", "url": "${base}/json", "force_cache": true, "force_cache_duration_seconds": "60", "raise_error": false})

timeout_not_duration := http.send({"method": "GET", "url": "${base}/json", "timeout": true, "raise_error": false})

raise_error_not_boolean := http.send({"method": "GET", "url": "${base}/json", "raise_error": "false"})
`;
}

const INPUT = { user: 'alice', trace: 't-42', n: 7 };

function routes(s: FixtureService): void {
  s.route('GET', '/json', (_req, res) => {
    res.setHeader('x-multi', ['a', 'b']);
    sendJson(res, 200, { name: 'alice', roles: ['admin'] });
  });
  const echo = (req: Parameters<Parameters<FixtureService['route']>[2]>[0], res: Parameters<Parameters<FixtureService['route']>[2]>[1], body: string) =>
    sendJson(res, 200, { method: req.method, url: req.url, content_type: req.headers['content-type'] ?? null, trace: req.headers['x-trace'] ?? null, body });
  s.route('POST', '/echo/*', echo);
  s.route('PUT', '/echo/*', echo);
  s.route('GET', '/step1', (_req, res) => sendJson(res, 200, { next: '/step2?from=step1' }));
  s.route('GET', '/step2', (req, res) => sendJson(res, 200, { second: true, url: req.url }));
  s.route('GET', '/slow', async (_req, res) => {
    await new Promise((r) => setTimeout(r, 1500));
    sendJson(res, 200, { late: true });
  });
  s.route('GET', '/missing', (_req, res) => sendJson(res, 404, { error: 'no such thing' }));
  s.route('GET', '/fail', (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
  });
  s.route('GET', '/text', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('hello');
  });
  s.route('GET', '/json-as-text', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('{"a": [1, 2.5, "x"]}');
  });
  s.route('GET', '/yaml', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/yaml' }).end('a: 1\nb: [x, y]\n');
  });
  s.route('GET', '/bad-json', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('not json');
  });
  s.route('GET', '/bad-yaml', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-yaml' }).end('a: [unclosed');
  });
  s.route('GET', '/redirect', (_req, res) => {
    res.writeHead(302, { location: '/json' }).end();
  });
  s.route('GET', '/counter', (_req, res) => sendJson(res, 200, { count: ++counter }));
}

/** Asynchronous: the fixture service runs in this process and must keep answering while OPA evaluates. */
async function opaEval(source: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-http-send-'));
  writeFileSync(join(dir, 'hs.rego'), source);
  writeFileSync(join(dir, 'input.json'), JSON.stringify(INPUT));
  const { stdout: out } = await promisify(execFile)(referenceOpa(), ['eval', '--format', 'json', '-d', join(dir, 'hs.rego'), '-i', join(dir, 'input.json'), 'data.hs'], { encoding: 'utf8' });
  return JSON.parse(out).result[0].expressions[0].value as Record<string, unknown>;
}

async function verdictEval(source: string, planner: RegoPlanner): Promise<Record<string, unknown>> {
  const engine = new Engine(new PlanningCompiler(planner), new HttpSendClient());
  await engine.activate([parseBundle('hs', [{ path: 'hs/hs.rego', data: Buffer.from(source) }])]);
  return (await engine.decide('hs', INPUT)).result as Record<string, unknown>;
}

/**
 * What must differ between two runs, and only that: the Date header (wall clock), the counter route's
 * values (the fixture counts on across runs; the same-request-same-response property is asserted instead),
 * and OPA's "file:row: " prefix on builtin error messages (a wasm host is not told where the call is). The echo
 * route leaves out the User-Agent, which names the client (OPA's or Verdict's).
 */
function normalise(rules: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(rules), (key, value) => {
    if (key === 'date' && Array.isArray(value)) return ['<date>'];
    if (key === 'message' && typeof value === 'string') return value.replace(/^[^\s:]+\.rego:\d+: /, '');
    if (key === 'count' && typeof value === 'number') return '<count>';
    return value;
  });
}

/** The requests the fixture saw during one run, without the counter (compared separately). */
function requestsSeen(from: number): string[] {
  return svc.seen.slice(from).map((r) => `${r.method} ${r.url} ${r.body}`).sort();
}

describe('http.send agrees with the reference OPA', () => {
  let opa: Record<string, unknown>;
  let opaRequests: string[];

  before(async () => {
    svc = await startFixtureService();
    routes(svc);
    closed = await closedPortUrl();
    const start = svc.seen.length;
    opa = await opaEval(policy(svc.url, closed));
    opaRequests = requestsSeen(start);
  });
  after(() => svc.close());

  for (const [name, planner] of [
    ['OPA planner', () => new OpaCliPlanner(referenceOpa())],
    ['Verdict planner', () => new VerdictPlanner()],
  ] as const) {
    it(`rule by rule, with the ${name}`, async () => {
      const start = svc.seen.length;
      const ours = await verdictEval(policy(svc.url, closed), planner());
      const want = normalise(opa);
      const got = normalise(ours);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), 'the same rules are defined (undefined ones are missing in both)');
      const differing = Object.keys(want).filter((rule) => !isDeepStrictEqual(got[rule], want[rule]));
      assert.deepEqual(Object.fromEntries(differing.map((r) => [r, got[r]])), Object.fromEntries(differing.map((r) => [r, want[r]])), `rules that differ: ${differing.join(', ')}`);
      assert.deepEqual(requestsSeen(start), opaRequests, 'the fixture saw the same requests');
      const [a, b] = ours.counted as Array<{ count: number }>;
      assert.equal(a!.count, b!.count, 'the same request within one decision gets the same response');
    });
  }
});
