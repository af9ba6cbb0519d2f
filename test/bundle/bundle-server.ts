// A bundle server for tests, on loopback: serves bundles with ETags, long polling as OPA's protocol describes,
// OAuth2 client-credentials tokens, and injected failures (HTTP errors, slow answers, resets, cut-off bodies).
// It also takes status reports (POST /status[/<partition>]) and decision log uploads (POST /logs), keeping every
// request's body.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { jwtVerify, type JWSHeaderParameters, type JWTPayload } from 'jose';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; code: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'reset' }
  | { kind: 'truncate' };

interface Served {
  bytes: Buffer;
  etag: string;
  waiters: Array<() => void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  at: number;
  clientCert?: string;
  body?: Buffer;
}

export interface TestServerOptions {
  /** Answer bundles with OPA's content type, which keeps clients long polling. */
  bundleContentType?: boolean;
  tls?: { key: string; cert: string; ca?: string; requestCert?: boolean };
  /** A token endpoint at /token: client secret in Basic auth, or JWT grants/assertions signed by publicKey's owner. */
  oauth2?: { clientId: string; clientSecret: string; expiresIn?: number; publicKey?: KeyObject };
  /** Require `Authorization: Bearer <token>` on bundle requests: a token issued by /token, or this fixed one. */
  requireBearer?: string | 'issued';
}

export class TestBundleServer {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  readonly issuedTokens: Array<{ token: string; scope?: string; grant: string; form: Record<string, string>; assertion?: { claims: JWTPayload; header: JWSHeaderParameters } }> = [];
  private readonly bundles = new Map<string, Served>();
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(private readonly server: Server, readonly options: TestServerOptions, readonly url: string) {}

  static async start(options: TestServerOptions = {}): Promise<TestBundleServer> {
    let self: TestBundleServer | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => void self!.handle(req, res);
    const server = options.tls
      ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: options.tls.requestCert, rejectUnauthorized: options.tls.requestCert ?? false }, handler)
      : createHttpServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new TestBundleServer(server, options, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
    server.on('connection', (socket) => {
      self!.sockets.add(socket);
      socket.on('close', () => self!.sockets.delete(socket));
    });
    server.on('secureConnection', (socket) => {
      self!.sockets.add(socket);
      socket.on('close', () => self!.sockets.delete(socket));
    });
    return self;
  }

  /** Publishes a bundle at `/bundles/<name>` (or any path given with a slash); long polls waiting on it return. */
  setBundle(name: string, bytes: Buffer): string {
    const path = name.includes('/') ? name : `bundles/${name}`;
    const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`;
    const previous = this.bundles.get(path);
    this.bundles.set(path, { bytes, etag, waiters: [] });
    for (const wake of previous?.waiters ?? []) wake();
    return etag;
  }

  bundleRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path !== '/token' && r.method === 'GET');
  }

  /** The status reports received, parsed, oldest first. */
  statusReports(): Record<string, any>[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/status') && r.body).map((r) => JSON.parse(r.body!.toString('utf8')));
  }

  async close(): Promise<void> {
    for (const served of this.bundles.values()) for (const wake of served.waiters) wake();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const socket = req.socket as import('node:tls').TLSSocket;
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const recorded: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, at: Date.now(), clientCert: peer?.subject?.CN as string | undefined };
    this.requests.push(recorded);
    const body = await readBody(req);
    if (body.length > 0) recorded.body = body;
    if (path === '/token' && req.method === 'POST') return this.token(req, body, res);
    const fault = this.faults.shift();
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'status') return json(res, fault.code, { code: 'internal_error', message: 'injected failure' });
    if (!this.authorised(req)) return json(res, 401, { code: 'unauthorized', message: 'bearer token required' });
    if (req.method === 'POST' && /^\/status(\/|$)/.test(path)) return json(res, 200, {});
    if (req.method === 'POST' && path === '/logs') return json(res, 200, {});
    const served = this.bundles.get(path.slice(1));
    if (!served) return json(res, 404, { code: 'not_found', message: `no bundle at ${path}` });
    const wait = /wait=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1];
    if (req.headers['if-none-match'] === served.etag && wait) {
      // Long poll: hold the request until the bundle changes or the wait runs out.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Number(wait) * 1000);
        served.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const current = this.bundles.get(path.slice(1))!;
    const contentType = this.options.bundleContentType ? 'application/vnd.openpolicyagent.bundles' : 'application/gzip';
    if (req.headers['if-none-match'] === current.etag) {
      res.writeHead(304, { etag: current.etag, 'content-type': contentType }).end();
      return;
    }
    if (fault?.kind === 'truncate') {
      res.writeHead(200, { etag: current.etag, 'content-type': contentType, 'content-length': current.bytes.length });
      res.write(current.bytes.subarray(0, Math.floor(current.bytes.length / 2)));
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    res.writeHead(200, { etag: current.etag, 'content-type': contentType, 'content-length': current.bytes.length }).end(current.bytes);
  }

  private authorised(req: IncomingMessage): boolean {
    const want = this.options.requireBearer;
    if (!want) return true;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return want === 'issued' ? this.issuedTokens.some((t) => t.token === token) : token === want;
  }

  private async token(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const oauth2 = this.options.oauth2;
    const form = new URLSearchParams(body.toString());
    if (!oauth2) return json(res, 404, { error: 'no token endpoint' });
    const grant = form.get('grant_type');
    let assertion: { claims: JWTPayload; header: JWSHeaderParameters } | undefined;
    const signed = grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer' ? form.get('assertion') : form.get('client_assertion');
    if (signed !== null) {
      // A JWT grant or client assertion counts only if it verifies against the client's public key.
      if (!oauth2.publicKey || (grant !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' && form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')) {
        return json(res, 401, { error: 'invalid_client' });
      }
      try {
        const { payload, protectedHeader } = await jwtVerify(signed, oauth2.publicKey);
        assertion = { claims: payload, header: protectedHeader };
      } catch {
        return json(res, 401, { error: 'invalid_client' });
      }
    } else {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const [id, secret] = Buffer.from(basic ?? '', 'base64').toString().split(':');
      if (id !== oauth2.clientId || secret !== oauth2.clientSecret) return json(res, 401, { error: 'invalid_client' });
      if (grant !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const token = randomBytes(12).toString('hex');
    this.issuedTokens.push({ token, scope: form.get('scope') ?? undefined, grant: grant ?? '', form: Object.fromEntries(form), assertion });
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: oauth2.expiresIn ?? 3600 });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.alloc(0)));
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
