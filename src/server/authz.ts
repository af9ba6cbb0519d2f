// Authentication and authorization of every API request, with `opa run`'s semantics
// (--authentication=token|tls, --authorization=basic; docs/docs/security.md):
// - token: the identity is the token of an `Authorization: Bearer <token>` header (absent or malformed: none);
// - tls: the identity is the client certificate's subject (RFC 2253 order), and the certificates are input too;
// - basic: the policy at `default_authorization_decision` (data.system.authz.allow by default) decides each
//   request from {identity, method, path, params, headers, client_certificates, body}. `true` or
//   {"allowed": true} lets it through; anything else is 401, undefined is 500. The policy is part of the
//   active policy set, compiled and evaluated like any other; no policy at all answers 500 (closed).
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { EvaluationError } from '../engine/program.js';
import { isJsonObject } from '../json/kinds.js';
import { splitPath } from '../engine/store.js';
import { isYaml, keepBody, parseDocument, readBody } from './body.js';
import type { ServerContext } from './context.js';
import { ApiError, evaluationFailed, internalError, invalidParameter } from './errors.js';
import type { Authentication, Authorization } from './listen-options.js';
import { goQueryParams } from './query-string.js';
import { sendError } from './respond.js';

export interface AccessSettings {
  authentication: Authentication;
  authorization: Authorization;
  /** default_authorization_decision, e.g. "/system/authz/allow". */
  decision: string;
}

/** Lets the request through (true), or answers it (false). */
export type RequestGate = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

const unauthorized = (message: string) => new ApiError(401, 'unauthorized', message);
const encoder = new TextEncoder();

export function createRequestGate(ctx: ServerContext, settings: AccessSettings): RequestGate | undefined {
  if (settings.authorization === 'off') return undefined;
  const decisionPath = splitPath(settings.decision);
  return async (req, res) => {
    try {
      const input = await authorizationInput(ctx, req, settings.authentication);
      const outcome = ctx.engine.evaluate(decisionPath, encoder.encode(JSON.stringify(input)));
      const evaluation = outcome instanceof Promise ? await outcome : outcome;
      if (!evaluation.defined) throw internalError('authorization policy missing or undefined');
      const allowed = evaluation.result;
      if (allowed === true) return true;
      if (isJsonObject(allowed)) {
        if (!('allowed' in allowed)) throw internalError('document missing or undefined');
        const { allowed: ok, reason } = allowed;
        if (ok === true) return true;
        if (typeof reason === 'string') throw unauthorized(reason);
      }
      throw unauthorized('request rejected by administrative policy');
    } catch (err) {
      if (err instanceof MalformedPath) {
        // Go's HTTP server refuses such a request line before any handler runs.
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        res.end('400 Bad Request');
      } else {
        sendError(req, res, err instanceof EvaluationError ? evaluationFailed(err) : err, ctx.encoding);
      }
      return false;
    }
  };
}

/** OPA's authorization input for one request (v1/server/authorizer). */
async function authorizationInput(ctx: ServerContext, req: IncomingMessage, authentication: Authentication): Promise<Record<string, unknown>> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const path = pathSegments(rawPath);
  const params: Record<string, string[]> = {};
  if (rawQuery !== '') for (const [name, value] of goQueryParams(rawQuery)) (params[name] ??= []).push(value);
  const input: Record<string, unknown> = { path, method: (req.method ?? '').toUpperCase(), params, headers: canonicalHeaders(req) };
  if (expectsBody(req.method, path)) {
    const body = await readBody(req, ctx.decoding);
    keepBody(req, body);
    if (body.length > 0) {
      try {
        input.body = parseDocument(body, isYaml(req));
      } catch (err) {
        throw invalidParameter((err as Error).message);
      }
    }
  }
  const identity = identify(req, authentication);
  if (identity) {
    input.identity = identity.name;
    if (identity.certificates) input.client_certificates = identity.certificates;
  }
  return input;
}

class MalformedPath extends Error {}

/** "/v1/data/a%2Fb" → ["v1", "data", "a/b"]: split first, then each segment unescaped. */
function pathSegments(rawPath: string): string[] {
  if (rawPath === '') return [];
  return rawPath
    .slice(1)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new MalformedPath();
      }
    });
}

/** The body is read (and given to the policy) for the requests whose body is an input: POST / and POST /v0|v1/data/... */
function expectsBody(method: string | undefined, path: string[]): boolean {
  if (method !== 'POST') return false;
  if (path.length === 1) return path[0] === '';
  return (path[0] === 'v0' || path[0] === 'v1') && path[1] === 'data';
}

/** Headers as Go's net/http holds them: canonical names, every value, no Host (the request line's) and no Transfer-Encoding. */
function canonicalHeaders(req: IncomingMessage): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (name === 'host' || name === 'transfer-encoding' || !values) continue;
    headers[name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())] = values;
  }
  return headers;
}

interface Identity {
  name: string;
  certificates?: unknown[];
}

// Go's regexp \s: tab, newline, form feed, carriage return, space.
const bearer = /^Bearer[\t\n\f\r ]+([^\t\n\f\r ]+)$/;

function identify(req: IncomingMessage, authentication: Authentication): Identity | undefined {
  if (authentication === 'token') {
    const value = req.headersDistinct.authorization?.[0] ?? '';
    if (value.length === 0 || value.length > 8192) return undefined;
    const match = bearer.exec(value);
    return match ? { name: match[1] } : undefined;
  }
  if (authentication === 'tls') {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerX509Certificate !== 'function') return undefined;
    const chain = peerChain(socket);
    if (chain.length === 0) return undefined;
    return { name: rdnSequence(chain[0].subject), certificates: chain.map(certificateInput) };
  }
  return undefined;
}

function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerX509Certificate();
  while (cert && !chain.some((c) => c.fingerprint256 === cert!.fingerprint256)) {
    chain.push(cert);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** Node lists a subject one attribute per line, most significant first; Go's String() prints them last first, comma-separated. */
function rdnSequence(subject: string): string {
  return subject.split('\n').filter(Boolean).reverse().join(',');
}

const attributeFields: Record<string, string> = { C: 'Country', O: 'Organization', OU: 'OrganizationalUnit', L: 'Locality', ST: 'Province', street: 'StreetAddress', postalCode: 'PostalCode' };

function distinguishedName(text: string): Record<string, unknown> {
  const name: Record<string, unknown> = { CommonName: '', SerialNumber: '' };
  for (const line of text.split('\n').filter(Boolean)) {
    const eq = line.indexOf('=');
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (key === 'CN') name.CommonName = value;
    else if (key === 'serialNumber') name.SerialNumber = value;
    else if (attributeFields[key]) ((name[attributeFields[key]] ??= []) as string[]).push(value);
  }
  return name;
}

/** The fields of Go's x509.Certificate that policies use, under Go's names (a subset: see docs/server.md). */
function certificateInput(cert: X509Certificate): Record<string, unknown> {
  const altNames = (cert.subjectAltName ?? '').split(', ').filter(Boolean);
  const of = (prefix: string) => altNames.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  return {
    Raw: cert.raw.toString('base64'),
    SerialNumber: BigInt(`0x${cert.serialNumber}`).toString(),
    Subject: distinguishedName(cert.subject),
    Issuer: distinguishedName(cert.issuer),
    NotBefore: new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'),
    NotAfter: new Date(cert.validTo).toISOString().replace('.000Z', 'Z'),
    DNSNames: of('DNS:'),
    EmailAddresses: of('email:'),
    IPAddresses: of('IP Address:'),
    URIs: of('URI:'),
  };
}
