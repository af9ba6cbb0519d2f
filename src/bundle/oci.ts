// Bundles from an OCI registry (OPA's services[_].type "oci"; docs: management-bundles, "OCI Registry"): the
// bundle's `resource` is an image reference (`registry.example.com/org/policies:1.2`), its manifest is read
// through the registry API (/v2/<repository>/manifests/<tag>) and the bundle is the first layer of media type
// application/vnd.oci.image.layer.v1.tar+gzip, as OPA takes it. An image index is walked, as OPA walks it, for
// the first manifest holding such a layer. The layer digest plays the ETag: an unchanged
// digest is not downloaded again, and a downloaded blob must hash to its digest. Registries that answer 401 with
// a Bearer challenge get the Docker token flow, authenticated with the service's credentials, at a realm that
// registry-realm.ts lets them go to.
import { createHash } from 'node:crypto';
import { type ServiceClient } from './service.js';
import { answerJson, HttpRequestError, type HttpResponse } from '../net/http-client.js';
import { ConfigError } from '../config/config.js';
import { checkRealm } from './registry-realm.js';
import type { TraceContext } from '../tracing/index.js';

export const ociBundleLayerType = 'application/vnd.oci.image.layer.v1.tar+gzip';
const manifestTypes = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
// OPA's Accept for a reference: registries such as ghcr.io answer only the types asked for.
const manifestAccept = [...manifestTypes, '*/*'].join(', ');
const manifestLimit = 4 * 1024 * 1024;
/** How many image indexes deep OPA looks for a bundle before giving up. */
const maxIndexDepth = 4;

interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
}
/** An image manifest (layers) or an image index (manifests), read as far as a bundle needs. */
interface ManifestDocument {
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export interface OciPullRequest {
  resource: string;
  /** Digest (hex) of the layer already active. */
  etag?: string;
  maxBytes: number;
  signal?: AbortSignal;
  /** The download's trace, which every registry request (token requests too) carries. */
  trace?: TraceContext;
}

export type OciPullResult = { unchanged: true; etag: string } | { unchanged: false; bytes: Buffer; etag: string };

const repositoryName = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const tagName = /^\w[\w.-]{0,127}$/;
const digestForm = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/**
 * `registry/repository:tag` or `registry/repository[:tag]@digest` → the repository path and the tag or digest,
 * read as OPA's registry client reads it: the first component is always the registry, whose host the service's
 * url replaces. A reference that cannot name an image is a mistake in the configuration (ConfigError naming it);
 * `owner` (`bundle authz`) starts the message. So is one without a tag or digest: OPA does not default it to
 * `latest` but asks the registry for the manifest at an empty reference (`/v2/<repository>/manifests/`), which
 * fails every download, so it is refused here rather than pulled as something OPA never pulls.
 */
export function parseReference(resource: string, owner = 'OCI bundle'): { repository: string; reference: string } {
  const refused = (why: string) => new ConfigError(`${owner}: resource ${JSON.stringify(resource)} is not an image reference: ${why}`);
  const slash = resource.indexOf('/');
  if (slash < 0) throw refused('no registry or repository (registry/repository[:tag])');
  if (slash === 0) throw refused('no registry before the repository');
  let repository = resource.slice(slash + 1);
  let reference: string | undefined;
  const at = repository.indexOf('@');
  const colon = repository.indexOf(':');
  if (at >= 0) {
    // A tag with a digest is left out: the digest names the manifest.
    reference = repository.slice(at + 1);
    repository = repository.slice(0, colon >= 0 && colon < at ? colon : at);
    if (!digestForm.test(reference)) throw refused(`digest ${JSON.stringify(reference)} is not sha256:<64 hex> or sha512:<128 hex>`);
  } else if (colon >= 0) {
    reference = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!tagName.test(reference)) throw refused(`tag ${JSON.stringify(reference)} is not a tag (letters, digits, _ . -, up to 128, not starting with . or -)`);
  }
  if (!repositoryName.test(repository)) throw refused(`repository ${JSON.stringify(repository)} is not a repository name (lower-case components separated by /)`);
  if (reference === undefined) {
    throw new ConfigError(`${owner}: resource ${JSON.stringify(resource)} names no tag or digest; OPA pulls nothing for such a reference (it asks for an empty one), so name the image in full, e.g. ${JSON.stringify(`${resource}:latest`)}`);
  }
  return { repository, reference };
}

/**
 * An OCI bundle's `resource`, checked when the configuration is read, as a service's url is: a ConfigError
 * naming the bundle when it is missing or not an image reference.
 */
export function ociReferenceOf(bundle: string, resource: string | undefined): { repository: string; reference: string } {
  if (resource === undefined) throw new ConfigError(`bundle ${bundle}: resource (the image reference, e.g. registry.example.com/org/bundle:tag) is required with an OCI service`);
  return parseReference(resource, `bundle ${bundle}`);
}

export class OciPuller {
  /** Registry tokens from the Bearer challenge flow, per scope. */
  private readonly tokens = new Map<string, string>();

  constructor(private readonly client: ServiceClient) {}

  async pull(request: OciPullRequest): Promise<OciPullResult> {
    const { repository, reference } = parseReference(request.resource);
    const root = await this.registryGet(`v2/${repository}/manifests/${reference}`, repository, { accept: manifestAccept }, manifestLimit, request);
    if (root.status !== 200) throw new HttpRequestError(`registry answered HTTP ${root.status} for the manifest of ${request.resource}`, root.status);
    const rootDigest = checkRootManifest(root, reference, request.resource);
    const image = await this.imageManifest(root.body, rootDigest, 0, new Set([rootDigest]), repository, request);
    const layer = image.layers!.find((l) => l?.mediaType === ociBundleLayerType);
    if (!layer) throw new HttpRequestError(`manifest of ${request.resource} has no layer of media type ${ociBundleLayerType}`);
    const digest = /^sha256:([0-9a-f]{64})$/.exec(layer.digest ?? '')?.[1];
    if (!digest) throw new HttpRequestError(`bundle layer of ${request.resource} has no sha256 digest`);
    if (digest === request.etag) return { unchanged: true, etag: digest };
    if (typeof layer.size === 'number' && layer.size > request.maxBytes) throw new HttpRequestError(`bundle layer of ${request.resource} is ${layer.size} bytes, over the limit of ${request.maxBytes}`);
    const blob = await this.registryGet(`v2/${repository}/blobs/sha256:${digest}`, repository, {}, request.maxBytes, request);
    if (blob.status !== 200) throw new HttpRequestError(`registry answered HTTP ${blob.status} for the bundle layer of ${request.resource}`, blob.status);
    if (!hashesTo(blob.body, `sha256:${digest}`)) throw new HttpRequestError(`bundle layer of ${request.resource} does not match its digest sha256:${digest}`);
    await this.checkConfigBlob(image.config, repository, request);
    return { unchanged: false, bytes: blob.body, etag: digest };
  }

  /**
   * The image manifest `body` (which has layers); for an image index, the first manifest in it (depth first, up
   * to four indexes deep) that holds a bundle layer, as OPA chooses: entries of platform unknown/unknown (build
   * attestations) and digests already seen are passed over, and an entry that cannot be read is remembered for
   * the error only if no other entry has a bundle.
   */
  private async imageManifest(body: Buffer, digest: string, depth: number, seen: Set<string>, repository: string, request: OciPullRequest): Promise<ManifestDocument> {
    const what = depth === 0 ? `manifest of ${request.resource}` : `manifest ${digest} of ${request.resource}`;
    let document: ManifestDocument;
    try {
      document = JSON.parse(body.toString('utf8')) as ManifestDocument;
    } catch {
      throw new HttpRequestError(`${what} is not JSON`);
    }
    if (Array.isArray(document?.layers) && document.layers.length > 0) return document;
    if (!Array.isArray(document?.manifests) || document.manifests.length === 0) throw new HttpRequestError(`${what} has no layers`);
    if (depth >= maxIndexDepth) throw new HttpRequestError(`image index ${digest} of ${request.resource} is nested more than ${maxIndexDepth} levels deep`);
    const failures: string[] = [];
    for (const entry of document.manifests) {
      if (entry?.platform?.os === 'unknown' && entry.platform.architecture === 'unknown') continue;
      const child = entry?.digest;
      if (typeof child !== 'string' || !digestForm.test(child)) {
        failures.push(`an entry of image index ${digest} has no digest (sha256:<64 hex> or sha512:<128 hex>)`);
        continue;
      }
      if (seen.has(child)) continue;
      seen.add(child);
      try {
        // As OPA fetches an entry: from the manifest endpoint when its media type is a manifest's, else as a blob.
        const isManifest = manifestTypes.includes(entry.mediaType ?? '');
        const path = `v2/${repository}/${isManifest ? 'manifests' : 'blobs'}/${child}`;
        const res = await this.registryGet(path, repository, isManifest ? { accept: entry.mediaType! } : {}, manifestLimit, request);
        if (res.status !== 200) throw new HttpRequestError(`registry answered HTTP ${res.status} for manifest ${child} of ${request.resource}`, res.status);
        if (!hashesTo(res.body, child)) throw new HttpRequestError(`manifest ${child} of ${request.resource} does not match its digest`);
        const image = await this.imageManifest(res.body, child, depth + 1, seen, repository, request);
        if (image.layers!.some((l) => l?.mediaType === ociBundleLayerType)) return image;
      } catch (err) {
        if (request.signal?.aborted) throw err;
        failures.push((err as Error).message);
      }
    }
    failures.push(`no manifest in image index ${digest} of ${request.resource} has a layer of media type ${ociBundleLayerType}`);
    throw new HttpRequestError(failures.join('; '));
  }

  /**
   * The image's config blob, fetched and checked against its digest though the bundle does not use it: OPA copies
   * every blob of the image, so an image whose config the registry cannot serve fails there, and fails here too
   * rather than loading where the reference would not.
   */
  private async checkConfigBlob(config: Descriptor | null | undefined, repository: string, request: OciPullRequest): Promise<void> {
    if (config === undefined || config === null) return;
    const digest = config.digest;
    if (typeof digest !== 'string' || !digestForm.test(digest)) throw new HttpRequestError(`config of ${request.resource} has no digest (sha256:<64 hex> or sha512:<128 hex>)`);
    const res = await this.registryGet(`v2/${repository}/blobs/${digest}`, repository, {}, manifestLimit, request);
    if (res.status !== 200) throw new HttpRequestError(`registry answered HTTP ${res.status} for the config blob ${digest} of ${request.resource}`, res.status);
    if (!hashesTo(res.body, digest)) throw new HttpRequestError(`config blob of ${request.resource} does not match its digest ${digest}`);
  }

  /**
   * A GET through the service client; a Bearer challenge is answered once. A redirect to blob storage is followed
   * by the client, which leaves the registry's token behind when the host changes.
   */
  private async registryGet(path: string, repository: string, headers: Record<string, string>, maxBytes: number, { signal, trace }: Pick<OciPullRequest, 'signal' | 'trace'>): Promise<HttpResponse> {
    const scope = `repository:${repository}:pull`;
    // Once the registry gave a token it replaces the service's credentials, as in the Docker token flow.
    const get = () => {
      const token = this.tokens.get(scope);
      return token
        ? this.client.get(path, { headers: { ...headers, authorization: `Bearer ${token}` }, maxBytes, signal, trace, withoutCredentials: true })
        : this.client.get(path, { headers, maxBytes, signal, trace });
    };
    let res = await get();
    if (res.status === 401) {
      const challenge = String(res.headers['www-authenticate'] ?? '');
      if (/^Bearer\s/i.test(challenge)) {
        this.tokens.set(scope, await this.registryToken(challenge, { signal, trace }));
        res = await get();
      }
    }
    return res;
  }

  /** The Docker registry token flow: GET <realm>?service=..&scope=.. with the service's credentials. */
  private async registryToken(challenge: string, { signal, trace }: Pick<OciPullRequest, 'signal' | 'trace'>): Promise<string> {
    const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!params.realm) throw new HttpRequestError('registry Bearer challenge has no realm');
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new HttpRequestError(`registry Bearer realm ${JSON.stringify(params.realm)} is not a URL`);
    }
    await checkRealm(url, new URL(this.client.config.url));
    if (params.service) url.searchParams.set('service', params.service);
    // A challenge without a scope gets a token request without one, as OPA's registry client asks: the token
    // server then decides what the credential may pull.
    if (params.scope) url.searchParams.set('scope', params.scope);
    const res = await this.client.fetchAbsolute(url.toString(), { maxBytes: manifestLimit, signal, trace });
    if (res.status !== 200) throw new HttpRequestError(`registry token request to ${url.origin}${url.pathname} answered HTTP ${res.status}`, res.status);
    const body = answerJson<{ token?: unknown; access_token?: unknown }>(res, () => new HttpRequestError(`registry token answer from ${url.origin} is not JSON`));
    // Both should be the same token; where they differ, access_token is taken, as OPA's registry client takes it.
    const token = typeof body.access_token === 'string' && body.access_token ? body.access_token : body.token;
    if (typeof token !== 'string' || !token) throw new HttpRequestError(`registry token answer from ${url.origin} has no token`);
    return token;
  }
}

/**
 * The digest of the manifest the registry answered for `reference`, checked as OPA's registry client checks
 * the answer it resolves a reference with: its Content-Type must be a manifest's (exactly: OPA fetches anything
 * else as a blob, which a registry does not hold), it must come with a Docker-Content-Digest header (OPA fails
 * without one, for a digest reference too), and that header must be the digest of the body, as must a digest
 * reference.
 */
function checkRootManifest(res: HttpResponse, reference: string, resource: string): string {
  const contentType = res.headers['content-type'];
  if (!manifestTypes.includes(contentType ?? '')) {
    throw new HttpRequestError(`registry answered the manifest of ${resource} with Content-Type ${JSON.stringify(contentType ?? '')}, not a manifest's (${manifestTypes.join(', ')})`);
  }
  const byReference = digestForm.test(reference);
  if (byReference && !hashesTo(res.body, reference)) throw new HttpRequestError(`manifest of ${resource} does not match its digest ${reference}`);
  const header = res.headers['docker-content-digest'];
  if (typeof header !== 'string' || header === '') throw new HttpRequestError(`registry answered the manifest of ${resource} without a Docker-Content-Digest header`);
  if (!digestForm.test(header) || !hashesTo(res.body, header)) throw new HttpRequestError(`manifest of ${resource} does not match the Docker-Content-Digest ${JSON.stringify(header)} the registry gave`);
  return byReference ? reference : header;
}

/** Whether `body` hashes to `digest` (sha256:<hex> or sha512:<hex>). */
function hashesTo(body: Buffer, digest: string): boolean {
  const [algorithm, hex] = digest.split(':');
  return createHash(algorithm!).update(body).digest('hex') === hex;
}
