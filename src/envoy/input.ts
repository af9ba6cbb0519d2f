// The policy input for an ext_authz check, shaped exactly as opa-envoy-plugin shapes it
// (envoyauth/request.go): the CheckRequest's JSON form plus parsed_path, parsed_query, parsed_body,
// truncated_body, version and source_principal. The HTTP adapters reuse addParsedFields so a policy
// written for Envoy's gRPC mode reads the same fields whichever PEP calls.
import type protobuf from 'protobufjs';
import { goParseQuery, goUnescape, InputParseError } from './go-url.js';
import { parseMediaType, parseMultipartForm } from './multipart.js';
import { messageToInput, type Json } from './protomap.js';
import { CheckRequest } from './proto.js';

export interface InputOptions {
  skipRequestBodyParse?: boolean;
}

// The parts of the HTTP request the parsed_* fields are computed from.
export interface HttpRequestView {
  path: string; // path with its query string, as Envoy's attributes.request.http.path
  headers: Record<string, string>; // lowercase names
  body: string;
  rawBody?: Uint8Array;
  sourcePrincipal?: string;
}

export const versionV3 = { ext_authz: 'v3', encoding: 'protojson' } as const;

export function checkRequestToInput(message: protobuf.Message, options: InputOptions = {}): Record<string, Json> {
  const input = messageToInput(CheckRequest, message as unknown as Record<string, unknown>);
  const attributes = (message as unknown as { attributes?: Attributes }).attributes;
  const http = attributes?.request?.http;
  return addParsedFields(input, {
    path: http?.path ?? '',
    headers: http?.headers ?? {},
    body: http?.body ?? '',
    rawBody: http?.rawBody,
    sourcePrincipal: attributes?.source?.principal,
  }, options);
}

interface Attributes {
  source?: { principal?: string };
  request?: { http?: { path?: string; headers?: Record<string, string>; body?: string; rawBody?: Uint8Array } };
}

export function addParsedFields(input: Record<string, Json>, view: HttpRequestView, options: InputOptions = {}): Record<string, Json> {
  input.version = { ...versionV3 };
  const { parsedPath, parsedQuery } = parsePathAndQuery(view.path);
  input.parsed_path = parsedPath;
  input.parsed_query = parsedQuery;
  if (!options.skipRequestBodyParse) {
    const { parsedBody, truncated } = parseBody(view);
    input.parsed_body = parsedBody;
    input.truncated_body = truncated;
  }
  if (view.sourcePrincipal) input.source_principal = view.sourcePrincipal;
  return input;
}

export function parsePathAndQuery(path: string): { parsedPath: string[]; parsedQuery: Record<string, string[]> } {
  const q = path.indexOf('?');
  const rawPath = q < 0 ? path : path.slice(0, q);
  const rawQuery = q < 0 ? '' : path.slice(q + 1);
  const parsedPath = goUnescape(rawPath, false).replace(/^\/+/, '').split('/');
  return { parsedPath, parsedQuery: goParseQuery(rawQuery) };
}

// Body parsing by content type. Envoy marks a body cut at max_request_bytes with
// x-envoy-auth-partial-body; a Content-Length larger than the body says the same.
export function parseBody(view: HttpRequestView): { parsedBody: Json; truncated: boolean } {
  const { headers } = view;
  const none = { parsedBody: null, truncated: false };
  if (headers['x-envoy-auth-partial-body'] === 'true') return { parsedBody: null, truncated: true };
  const contentType = headers['content-type'];
  if (contentType === undefined) return none;
  const kind = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'].find((k) => contentType.includes(k));
  if (!kind) return none; // includes application/grpc, which needs a proto descriptor we do not load
  const payload = view.body !== '' ? view.body : view.rawBody && view.rawBody.length > 0 ? Buffer.from(view.rawBody).toString('utf8') : '';
  if (payload === '') return none;
  if (isTruncated(headers['content-length'], payload)) return { parsedBody: null, truncated: true };
  switch (kind) {
    case 'application/json':
      return { parsedBody: parseJson(payload, 'request body'), truncated: false };
    case 'application/x-www-form-urlencoded':
      return { parsedBody: goParseQuery(payload), truncated: false };
    default:
      return { parsedBody: parseMultipartBody(contentType, payload), truncated: false };
  }
}

function isTruncated(contentLength: string | undefined, payload: string): boolean {
  if (contentLength === undefined) return false;
  if (!/^[+-]?\d+$/.test(contentLength)) {
    throw new InputParseError(`strconv.ParseInt: parsing ${JSON.stringify(contentLength)}: invalid syntax`);
  }
  const declared = Number(contentLength);
  return declared !== -1 && declared > Buffer.byteLength(payload, 'utf8');
}

function parseJson(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new InputParseError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseMultipartBody(contentType: string, payload: string): Json {
  const boundary = parseMediaType(contentType).params.boundary;
  if (boundary === undefined) return null;
  const form: Record<string, Json[]> = {};
  for (const part of parseMultipartForm(payload, boundary)) {
    const value = part.contentType.includes('application/json') ? parseJson(part.content, `form field ${part.name}`) : part.content;
    (form[part.name] ??= []).push(value);
  }
  return form;
}
