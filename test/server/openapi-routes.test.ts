// schemas/openapi.json lists exactly the routes the server serves: the express apps' router stacks (the API
// app with every optional surface configured, and the diagnostic app) are walked, and each registered route
// must be documented (with its methods, where the route names them), and each documented operation must be
// served by a registered route. The method-not-allowed fallbacks are not routes of their own. The decision-log
// collector (POST /logs) is served with a PostgreSQL store: its router is mounted here as start.ts mounts it,
// over a store that is never called (test/decisionlog/postgres.test.ts runs it against a real PostgreSQL).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METHODS } from 'node:http';
import { pino } from 'pino';
import type { Router } from 'express';
import { writeTree } from './harness.js';
import { TestAdminIdp } from './admin-idp.js';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { buildApp, buildDiagnosticApp } from '../../src/server/app.js';
import { decisionIngestRouter } from '../../src/server/decision-ingest.js';
import { decodingLimits } from '../../src/server/body.js';
import type { PostgresDecisionStore } from '../../src/decisionlog/postgres/store.js';

interface Layer {
  route?: { methods: Record<string, boolean>; stack: Layer[] };
  handle: { stack?: Layer[] };
  name: string;
  rawPath: string | RegExp | (string | RegExp)[];
  match(path: string): boolean;
}

/** One registered route: where it is mounted, its layer, and the methods it names ('all' for any). */
interface Registered {
  prefix: string;
  layer: Layer;
  methods: string[] | 'all';
  /** How it reads: "GET /v1/config", "ALL /^\/v1\/data(?:\/.*)?$/", "ALL /v1/authz/*". */
  label: string;
}

const spec = JSON.parse(readFileSync('schemas/openapi.json', 'utf8')) as { paths: Record<string, Record<string, unknown>> };
const documented = Object.entries(spec.paths).flatMap(([template, ops]) => Object.keys(ops).map((method) => ({ template, method: method.toUpperCase() })));
/** A concrete path for a template: each {parameter} becomes one segment. */
const sample = (template: string) => template.replace(/\{[^}]+\}/g, 'x');

function walk(stack: Layer[], prefix = ''): Registered[] {
  const out: Registered[] = [];
  for (const layer of stack) {
    const paths = Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath];
    const shown = paths.map((p) => (typeof p === 'string' ? `${prefix}${p === '/' && prefix ? '' : p}` : `${prefix}${p}`)).join(', ');
    if (layer.route) {
      if (layer.route.stack.every((l) => l.name === 'methodNotAllowed')) continue;
      // app.all() names every method node knows.
      const methods = Object.keys(layer.route.methods);
      const named = methods.includes('_all') || methods.length >= METHODS.length ? 'all' : methods.map((m) => m.toUpperCase());
      out.push({ prefix, layer, methods: named, label: `${named === 'all' ? 'ALL' : named.join('|')} ${shown}` });
    } else if (layer.handle.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      out.push(...walk(layer.handle.stack, `${prefix}${mount}`));
    } else if (prefix !== '' || layer.rawPath !== '/') {
      // Middleware under a path of its own answers every request there (the HTTP ext_authz mount).
      out.push({ prefix, layer, methods: 'all', label: `ALL ${shown}/*` });
    }
  }
  return out;
}

const serves = (r: Registered, url: string) => url.startsWith(r.prefix) && Boolean(r.layer.match(url.slice(r.prefix.length) || '/'));

let server: RunningServer;
let registered: Registered[];
const idp = new TestAdminIdp();

before(async () => {
  const dir = writeTree({ 'envoy/policy.rego': 'package envoy.authz\n\ndefault allow := false\n' });
  const config = `persistence_directory: ${dir}/persist
decision_logs: {store: {file: ${dir}/decisions.db}}
plugins:
  envoy_ext_authz_http: {}
${idp.config()}`;
  server = await startServer({ addr: '127.0.0.1:0', config: parseConfig(config, 'config'), bundlePaths: [dir], logger: pino({ level: 'silent' }), decisionLogByDefault: true });
  const collector = decisionIngestRouter({} as PostgresDecisionStore, decodingLimits(), (_req, _res, next) => next());
  const ctx = { ...server.ctx, mounts: [...(server.ctx.mounts ?? []), { path: '/', router: collector as Router }] };
  registered = [buildApp(ctx), buildDiagnosticApp(ctx)].flatMap((app) => walk((app as unknown as { router: { stack: Layer[] } }).router.stack));
});

after(async () => {
  await server?.close(1000);
});

test('the walk finds the surfaces that need configuring', () => {
  const labels = registered.map((r) => r.label).join('\n');
  for (const expected of ['GET /v1/bundles', 'GET /v1/decisions', 'GET /ui/decisions', 'POST /logs', 'ALL /v1/authz/*', 'GET /metrics', 'ALL /v1/query']) {
    assert.ok(labels.split('\n').includes(expected), `${expected} not in:\n${labels}`);
  }
});

test('every route the server registers is in schemas/openapi.json, with the methods it names', () => {
  const missing: string[] = [];
  for (const r of registered) {
    const templates = Object.keys(spec.paths).filter((t) => serves(r, sample(t)));
    if (templates.length === 0) {
      missing.push(r.label);
      continue;
    }
    if (r.methods === 'all') continue;
    for (const method of r.methods) {
      if (!templates.some((t) => method.toLowerCase() in spec.paths[t])) missing.push(`${method} ${templates.join(' or ')} (${r.label})`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every operation in schemas/openapi.json is served by a registered route', () => {
  const unserved = documented.filter(({ template, method }) => !registered.some((r) => serves(r, sample(template)) && (r.methods === 'all' || r.methods.includes(method))));
  assert.deepEqual(unserved.map(({ template, method }) => `${method} ${template}`), []);
});
