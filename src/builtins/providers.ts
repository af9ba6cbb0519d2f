// providers.aws.sign_req: AWS Signature Version 4 (src/net/aws-sigv4.ts) over an http.send-style request
// object, as OPA signs it.
import { BuiltinError, num, obj, type JsonObject } from './args.js';
import { goJsonMarshal } from './go-json.js';
import { signV4 } from '../net/aws-sigv4.js';
import { HTTP_SEND_REQUEST_KEYS } from './http-send/request.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

const NAME = 'providers.aws.sign_req';
const REQUIRED_CONFIG = ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'];

const asString = (v: unknown) => (typeof v === 'string' ? v : '');

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

  const body = 'raw_body' in req ? asString(req.raw_body) : 'body' in req ? goJsonMarshal(req.body) : '';
  const credentials = {
    accessKeyId: cfg.aws_access_key as string,
    secretAccessKey: cfg.aws_secret_access_key as string,
    sessionToken: asString(cfg.aws_session_token),
    region: cfg.aws_region as string,
  };
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers as JsonObject)) given[k] = asString(v);
  const added = signV4(
    { method: req.method, url: req.url, headers: given, body },
    { service: cfg.aws_service as string, credentials, time: new Date(Math.floor(ns / 1e6)), disablePayloadSigning },
  );
  const signed: JsonObject = { ...given, ...added };
  return { ...req, headers: signed };
}

export const providersBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'providers.aws.sign_req',
    decl: fn([arg('request', t.objectOf(t.string, t.any)), arg('aws_config', t.objectOf(t.string, t.any)), arg('time_ns', t.number)], arg('signed_request', t.objectOf(t.any, t.any))),
    categories: ['providers.aws'],
    host: signRequest,
  },
];
