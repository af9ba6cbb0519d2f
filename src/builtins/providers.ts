// providers.aws.sign_req: AWS Signature Version 4 over an http.send-style request object, as OPA signs it
// (same canonical request, the same headers added: host, x-amz-date, x-amz-content-sha256 for s3 and
// glacier, x-amz-security-token with session credentials).
import { createHash, createHmac } from 'node:crypto';
import { BuiltinError, num, obj, type HostBuiltinTable, type JsonObject } from './args.js';
import { goJsonMarshal } from './go-json.js';
import { escape, parseURL } from '../net/go-url.js';
import { HTTP_SEND_REQUEST_KEYS } from './http-send/request.js';

const NAME = 'providers.aws.sign_req';
const REQUIRED_CONFIG = ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'];
/** Headers a proxy may rewrite, left out of the signature. */
const IGNORED_HEADERS = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

const asString = (v: unknown) => (typeof v === 'string' ? v : '');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function signRequest(request: unknown, config: unknown, timeNs: unknown): JsonObject {
  const req = obj(NAME, 1, request);
  const cfg = obj(NAME, 2, config);
  const missing = REQUIRED_CONFIG.filter((k) => !(k in cfg));
  if (missing.length > 0) throw new BuiltinError(NAME, `operand 2 missing required AWS config parameters(s): {${missing.map((k) => JSON.stringify(k)).join(', ')}}`);
  const invalid = REQUIRED_CONFIG.filter((k) => typeof cfg[k] !== 'string');
  if (invalid.length > 0) throw new BuiltinError(NAME, `operand 2 invalid values for required AWS config parameters(s): {${invalid.map((k) => JSON.stringify(k)).join(', ')}}`);
  const ns = num(NAME, 3, timeNs);
  if (!Number.isInteger(ns)) throw new BuiltinError(NAME, 'operand 3 could not convert time_ns value into a unix timestamp');
  const unknown = Object.keys(req).filter((k) => !HTTP_SEND_REQUEST_KEYS.has(k));
  if (unknown.length > 0) throw new BuiltinError(NAME, `operand 1 invalid request parameters(s): {${unknown.map((k) => JSON.stringify(k)).join(', ')}}`);
  const absent = ['method', 'url'].filter((k) => !(k in req));
  if (absent.length > 0) throw new BuiltinError(NAME, `operand 1 missing required request parameters(s): {${absent.map((k) => JSON.stringify(k)).join(', ')}}`);
  if (typeof req.url !== 'string' || typeof req.method !== 'string') throw new BuiltinError(NAME, 'operand 1 invalid values for required request parameters(s)');
  const headers = req.headers === undefined ? {} : req.headers;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) throw new BuiltinError(NAME, 'operand 0 must be object');
  let disablePayloadSigning = false;
  if ('disable_payload_signing' in cfg) {
    if (typeof cfg.disable_payload_signing !== 'boolean') throw new BuiltinError(NAME, "operand 2 invalid value for 'disable_payload_signing' in AWS config");
    disablePayloadSigning = cfg.disable_payload_signing;
  }

  const url = parseURL(req.url);
  const body = 'raw_body' in req ? asString(req.raw_body) : 'body' in req ? goJsonMarshal(req.body) : '';
  const service = cfg.aws_service as string;
  const region = cfg.aws_region as string;
  const when = new Date(Math.floor(ns / 1e6));
  const date = `${when.getUTCFullYear()}${pad(when.getUTCMonth() + 1)}${pad(when.getUTCDate())}`;
  const stamp = `${date}T${pad(when.getUTCHours())}${pad(when.getUTCMinutes())}${pad(when.getUTCSeconds())}Z`;
  const contentHash = disablePayloadSigning ? 'UNSIGNED-PAYLOAD' : sha256Hex(body);

  const awsHeaders: Record<string, string> = { host: url.host, 'x-amz-date': stamp };
  if (service === 's3' || service === 'glacier') awsHeaders['x-amz-content-sha256'] = contentHash;
  const token = asString(cfg.aws_session_token);
  if (token !== '') awsHeaders['x-amz-security-token'] = token;

  const toSign: Record<string, string> = { ...awsHeaders };
  for (const [k, v] of Object.entries(headers as JsonObject)) {
    if (!IGNORED_HEADERS.has(k.toLowerCase())) toSign[k.toLowerCase()] = asString(v);
  }
  const names = Object.keys(toSign).sort();
  const canonical = [
    req.method,
    url.rawPath || escape(url.path, 'path'),
    url.rawQuery,
    ...names.map((k) => `${k}:${toSign[k]}`),
    '',
    names.join(';'),
    contentHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256Hex(canonical)}`;
  let key = hmac(`AWS4${cfg.aws_secret_access_key as string}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString('hex');

  const signed: JsonObject = {};
  for (const [k, v] of Object.entries(headers as JsonObject)) signed[k] = asString(v);
  signed.Authorization = `AWS4-HMAC-SHA256 Credential=${cfg.aws_access_key as string}/${scope},SignedHeaders=${names.join(';')},Signature=${signature}`;
  Object.assign(signed, awsHeaders);
  return { ...req, headers: signed };
}

export const providersBuiltins: HostBuiltinTable = {
  'providers.aws.sign_req': signRequest,
};
