// End to end through a real nginx: auth_request asks Verdict's HTTP callout before proxying to a
// small upstream. Allowed requests reach the upstream with the policy's header; denied ones do not.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { httpAuthzRouter } from '../../src/envoy/http-authz.js';
import { httpTestPolicy } from './http-policy.js';
import { listen } from './listen.js';
import { freePort, waitForPort } from './peer.js';
import { wasmDecide } from './wasm-decide.js';

// The test setup installs nginx from Debian when it is missing (CI machines start bare).
function nginxBinary(): string | undefined {
  const find = () => ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (find()) return find();
  try {
    execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return find();
}

const nginx = nginxBinary();

describe('nginx auth_request in front of an upstream', { skip: nginx ? undefined : 'nginx not installable' }, () => {
  const reached: { url: string; headers: IncomingHttpHeaders }[] = [];
  let upstream: Server;
  let verdict: Server;
  let proxy: ChildProcess;
  let dir: string;
  let base: string;

  before(async () => {
    upstream = createServer((req, res) => {
      reached.push({ url: req.url ?? '', headers: req.headers });
      res.end('upstream says hi');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const app = express();
    app.use('/authz', httpAuthzRouter(await wasmDecide(httpTestPolicy, ['envoy/authz/allow'])));
    const started = await listen(app);
    verdict = started.server;
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'verdict-nginx-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'nginx.conf'), `
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_verdict;
      auth_request_set $verdict_user $upstream_http_x_user;
      proxy_set_header X-User $verdict_user;
      proxy_pass http://127.0.0.1:${(upstream.address() as AddressInfo).port};
    }
    location = /_verdict {
      internal;
      proxy_pass ${started.base}/authz;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`);
    proxy = spawn(nginx!, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    await waitForPort(port);
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (proxy) {
      const exited = new Promise((resolve) => proxy.once('exit', resolve));
      proxy.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => verdict?.close(resolve));
    await new Promise((resolve) => upstream?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('an allowed request reaches the upstream carrying the header the policy set', async () => {
    const before = reached.length;
    const res = await fetch(`${base}/public/page?q=1`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'upstream says hi');
    assert.equal(reached.length, before + 1);
    assert.equal(reached.at(-1)!.url, '/public/page?q=1');
    assert.equal(reached.at(-1)!.headers['x-user'], 'alice');
  });

  test('a denied request gets 403 and never reaches the upstream', async () => {
    const before = reached.length;
    const res = await fetch(`${base}/admin/delete-everything`);
    assert.equal(res.status, 403);
    assert.equal(reached.length, before);
  });

  test('the original method counts: POST to a GET-only path is denied', async () => {
    const before = reached.length;
    const res = await fetch(`${base}/public/page`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 403);
    assert.equal(reached.length, before);
  });

  test('a 401 from the policy reaches the client as 401', async () => {
    const res = await fetch(`${base}/login-required`);
    assert.equal(res.status, 401);
  });
});
