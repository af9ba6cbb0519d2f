// A real nginx with auth_request in front of an upstream, asking an HTTP callout URL (Verdict's
// /v1/authz or a bare router) before proxying. Shared by the router test and the verdict run test.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from './peer.js';
import { freePort } from '../free-port.js';
import { ensureNginx } from '../bundle/nginx.js';
import { requiredPeer, type Peer } from '../peers.js';

/** nginx, installed from Debian when missing (CI machines start bare). */
export function nginxPeer(): Peer<string> {
  return requiredPeer('nginx', ensureNginx);
}


export interface RunningNginx {
  base: string;
  stop(): Promise<void>;
}

// nginx on a free loopback port: `location /` asks authUrl with auth_request, copies the X-User header
// the policy set onto the upstream request, and proxies to the upstream port.
export async function startNginx(nginx: string, authUrl: string, upstreamPort: number): Promise<RunningNginx> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'verdict-nginx-'));
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
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
    location = /_verdict {
      internal;
      proxy_pass ${authUrl};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`);
  const proxy = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => proxy.once('exit', resolve));
      proxy.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
