// A real OCI registry on loopback: go-containerregistry's `crane registry serve`, built by scripts/install-crane.sh.
// Bundles are pushed with `crane append` as single-layer images; image indexes are put through the registry API.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../free-port.js';
import { tempDir } from '../temp-dir.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

export interface Registry {
  /** host:port, the registry part of image references. */
  host: string;
  url: string;
  /** Pushes `bundle` as the only layer of <host>/<repository>:<tag>; `oci` false gives Docker media types. */
  push(bundle: Buffer, repository: string, tag: string, options?: { oci?: boolean }): void;
  /** The descriptor of the manifest at <repository>:<reference>, as an image index names it. */
  descriptor(repository: string, reference: string): Promise<{ mediaType: string; digest: string; size: number }>;
  /** Puts an image index of `manifests` at <repository>:<tag>; returns its descriptor. */
  putIndex(repository: string, tag: string, manifests: object[]): Promise<{ mediaType: string; digest: string; size: number }>;
  close(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const crane = execFileSync(`${repo}scripts/install-crane.sh`, { encoding: 'utf8' }).trim();
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(crane, ['registry', 'serve', '--address', host], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://${host}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/v2/`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`crane registry serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const dir = tempDir('verdict-oci-push-');
  return {
    host,
    url,
    push(bundle, repository, tag, options = {}) {
      const file = join(dir, `${repository.replace(/\//g, '_')}-${tag}.tar.gz`);
      writeFileSync(file, bundle);
      const args = ['append', '-f', file, '-t', `${host}/${repository}:${tag}`, '--insecure'];
      if (options.oci !== false) args.push('--oci-empty-base');
      execFileSync(crane, args, { stdio: 'pipe' });
    },
    async descriptor(repository, reference) {
      const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';
      const res = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
      if (!res.ok) throw new Error(`manifest ${repository}:${reference}: HTTP ${res.status}`);
      const body = Buffer.from(await res.arrayBuffer());
      return { mediaType: res.headers.get('content-type')!, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length };
    },
    async putIndex(repository, tag, manifests) {
      const mediaType = 'application/vnd.oci.image.index.v1+json';
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
      const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': mediaType }, body });
      if (res.status !== 201) throw new Error(`putting index ${repository}:${tag}: HTTP ${res.status} ${await res.text()}`);
      return { mediaType, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length };
    },
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
