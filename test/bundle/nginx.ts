// Real nginx for polling tests: installed from Debian if missing, run in the foreground from a temp prefix on a
// loopback port, stopped by its own pid. nginx serves static files with ETag and answers If-None-Match with 304.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';
import { freePort } from '../free-port.js';

function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** Path of nginx, installing the Debian package first when it is missing (the Debian package starts no daemon here). */
export function ensureNginx(): string {
  let bin = nginxBinary();
  if (!bin) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    const res = spawnSync('apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', 'nginx-light'], { encoding: 'utf8', env });
    bin = nginxBinary();
    if (!bin) throw new Error(`could not install nginx: ${res.stderr}`);
  }
  return bin;
}

export interface RunningNginx {
  url: string;
  /** The directory served at the root URL. */
  root: string;
  stop(): Promise<void>;
}

export async function startNginx(): Promise<RunningNginx> {
  const bin = ensureNginx();
  const prefix = tempDir('verdict-nginx-');
  const root = join(prefix, 'html');
  mkdirSync(root);
  // Worker processes run as an unprivileged user when nginx starts as root: let them read the served files.
  chmodSync(prefix, 0o755);
  chmodSync(root, 0o755);
  const port = await freePort();
  writeFileSync(join(prefix, 'nginx.conf'), `
daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp-body;
  proxy_temp_path ${prefix}/tmp-proxy;
  fastcgi_temp_path ${prefix}/tmp-fastcgi;
  uwsgi_temp_path ${prefix}/tmp-uwsgi;
  scgi_temp_path ${prefix}/tmp-scgi;
  types { application/gzip gz; }
  server {
    listen 127.0.0.1:${port};
    root ${root};
    etag on;
  }
}
`);
  const child: ChildProcess = spawn(bin, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}; see ${prefix}/error.log`);
    try {
      await fetch(url + '/');
      break;
    } catch {
      if (i > 100) throw new Error('nginx did not start listening');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    root,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}
