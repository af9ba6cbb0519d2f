// io.jwt.*: JWS compact tokens decoded, verified and signed with node:crypto (synchronously: the wasm
// SDK calls host builtins synchronously, which rules out jose's async WebCrypto API). Key material is a
// PEM certificate, a PEM public key or a JWK / JWK set, as in OPA.
import {
  X509Certificate,
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { BuiltinError, obj, str, type HostBuiltin, type JsonObject } from './args.js';
import { decodeBase64Url } from './base64url.js';
import { goJsonMarshal } from './go-json.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

const ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);

interface Token {
  header: string;
  payload: string;
  signature: string;
}

function split(builtin: string, jwt: unknown): Token {
  const s = str(builtin, 1, jwt);
  if (!s.includes('.')) throw new BuiltinError(builtin, 'encoded JWT had no period separators');
  const parts = s.split('.');
  if (parts.length !== 3) throw new BuiltinError(builtin, `encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0]!, payload: parts[1]!, signature: parts[2]! };
}

function jsonObject(builtin: string, bytes: Buffer, what: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new BuiltinError(builtin, `${what}: invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BuiltinError(builtin, `${what}: decoded JSON type was not an Object`);
  return v as JsonObject;
}

function decodeHeader(builtin: string, t: Token): JsonObject {
  const header = jsonObject(builtin, decodeBase64Url(builtin, t.header), 'bad JWT header');
  if ('enc' in header) throw new BuiltinError(builtin, 'JWT is a JWE object, which is not supported');
  return header;
}

function decode(jwt: unknown): unknown[] {
  const name = 'io.jwt.decode';
  const t = split(name, jwt);
  const header = decodeHeader(name, t);
  const payloadBytes = decodeBase64Url(name, t.payload);
  if (header.cty === 'JWT') {
    // A nested token is often quoted (jwt.io does so); strip the quotes and decode the inner token.
    return decode(payloadBytes.toString('utf8').replace(/^["']+|["']+$/g, ''));
  }
  const payload = jsonObject(name, payloadBytes, 'JWT payload');
  return [header, payload, decodeBase64Url(name, t.signature).toString('hex')];
}

interface VerificationKey {
  alg: string;
  kid: string;
  key: KeyObject | Buffer;
}

/** Keys from a PEM certificate, a PEM public key, or a JWK / JWK set (keys with unknown algorithms skipped). */
export function parseKeys(builtin: string, material: string): VerificationKey[] {
  const pem = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n?-----END \1-----(?:\r?\n)?/.exec(material.replace(/^\s+/, ''));
  if (pem) {
    const rest = material.replace(/^\s+/, '').slice(pem[0].length);
    if (rest.length > 0) throw new BuiltinError(builtin, 'extra data after a PEM certificate block');
    if (pem[1] === 'CERTIFICATE') return [{ alg: '', kid: '', key: new X509Certificate(pem[0]).publicKey }];
    if (pem[1] === 'PUBLIC KEY') return [{ alg: '', kid: '', key: createPublicKey(pem[0]) }];
    throw new BuiltinError(builtin, 'failed to extract a Key from the PEM certificate');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(material);
  } catch {
    throw new BuiltinError(builtin, 'failed to parse a JWK key (set)');
  }
  const jwks = parsed as { keys?: JsonWebKey[] };
  const list = Array.isArray(jwks.keys) ? jwks.keys : [parsed as JsonWebKey];
  return list.flatMap((k) => {
    const alg = typeof k.alg === 'string' ? k.alg : '';
    if (alg !== '' && !ALGORITHMS.has(alg)) return [];
    return [{ alg, kid: typeof k.kid === 'string' ? k.kid : '', key: jwkKey(k, 'public') }];
  });
}

function jwkKey(k: JsonWebKey, use: 'public' | 'private'): KeyObject | Buffer {
  if (k.kty === 'oct') return Buffer.from(String(k.k ?? ''), 'base64url');
  return use === 'public' ? createPublicKey({ key: k, format: 'jwk' }) : createPrivateKey({ key: k, format: 'jwk' });
}

function digestOf(alg: string): string | null {
  if (alg === 'EdDSA') return null;
  return `sha${alg.slice(2)}`;
}

/** Verifies a JWS signature for alg with key; wrong key types simply fail. */
function verifySignature(alg: string, key: KeyObject | Buffer, data: Buffer, sig: Buffer): boolean {
  try {
    if (alg.startsWith('HS')) {
      if (!Buffer.isBuffer(key)) return false;
      const mac = createHmac(digestOf(alg)!, key).update(data).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    if (Buffer.isBuffer(key)) return false;
    const family = alg.slice(0, 2);
    const type = key.asymmetricKeyType;
    if ((family === 'RS' || family === 'PS') && type !== 'rsa' && type !== 'rsa-pss') return false;
    if (family === 'ES' && type !== 'ec') return false;
    if (alg === 'EdDSA' && type !== 'ed25519' && type !== 'ed448') return false;
    if (family === 'PS') {
      return cryptoVerify(digestOf(alg), data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
    }
    if (family === 'ES') return cryptoVerify(digestOf(alg), data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    return cryptoVerify(digestOf(alg), data, key, sig);
  } catch {
    return false;
  }
}

/** io.jwt.verify_<alg>: the kid-matching key if any, else any key whose alg (when stated) matches the header. */
function verifyWithKeys(builtin: string, alg: string, jwt: unknown, material: unknown): boolean {
  const t = split(builtin, jwt);
  const keys = parseKeys(builtin, str(builtin, 2, material));
  const sig = decodeBase64Url(builtin, t.signature);
  const header = decodeHeader(builtin, t);
  const data = Buffer.from(`${t.header}.${t.payload}`);
  const kid = typeof header.kid === 'string' ? header.kid : '';
  const byKid = kid ? keys.find((k) => k.kid === kid) : undefined;
  if (byKid) return verifySignature(alg, byKid.key, data, sig);
  return keys.some((k) => (k.alg === '' || k.alg === header.alg) && verifySignature(alg, k.key, data, sig));
}

function verifyHS(builtin: string, alg: string, jwt: unknown, secret: unknown): boolean {
  const key = Buffer.from(str(builtin, 2, secret), 'utf8');
  const t = split(builtin, jwt);
  return verifySignature(alg, key, Buffer.from(`${t.header}.${t.payload}`), decodeBase64Url(builtin, t.signature));
}

interface Constraints {
  keys?: VerificationKey[];
  secret: string;
  alg: string;
  iss: string;
  aud: string;
  /** Nanoseconds since the epoch. */
  time: number;
}

function constraintsOf(builtin: string, v: unknown): Constraints {
  const c: Constraints = { secret: '', alg: '', iss: '', aud: '', time: -1 };
  for (const [k, value] of Object.entries(obj(builtin, 2, v))) {
    if (k === 'cert') {
      if (typeof value !== 'string') throw new BuiltinError(builtin, 'cert constraint: must be a string');
      c.keys = parseKeys(builtin, value);
    } else if (k === 'secret' || k === 'alg' || k === 'iss' || k === 'aud') {
      if (typeof value !== 'string') throw new BuiltinError(builtin, `${k} constraint: must be a string`);
      c[k] = value;
    } else if (k === 'time') {
      if (typeof value !== 'number') throw new BuiltinError(builtin, 'token time constraint: must be a number');
      if (value < 0) throw new BuiltinError(builtin, 'token time constraint: must not be negative');
      c.time = value;
    } else throw new BuiltinError(builtin, `unknown token validation constraint: ${k}`);
  }
  if (c.time === -1) c.time = Date.now() * 1e6;
  const keyConstraints = (c.keys ? 1 : 0) + (c.secret !== '' ? 1 : 0);
  if (keyConstraints > 1) throw new BuiltinError(builtin, 'duplicate key constraints');
  if (keyConstraints < 1) throw new BuiltinError(builtin, 'no key constraint');
  return c;
}

/** A header OPA accepts: alg present, typed fields strings, every "crit" name understood. */
function headerValid(builtin: string, header: JsonObject): boolean {
  const known = new Set(['alg', 'kid', 'typ', 'cty', 'crit']);
  for (const k of ['alg', 'kid', 'typ', 'cty']) {
    if (k in header && typeof header[k] !== 'string') throw new BuiltinError(builtin, `${k}: must be a string`);
  }
  let crit: Set<string> = new Set();
  if ('crit' in header) {
    if (!Array.isArray(header.crit)) throw new BuiltinError(builtin, 'crit: must be a list');
    crit = new Set(header.crit.filter((x): x is string => typeof x === 'string'));
    if (crit.size === 0) throw new BuiltinError(builtin, 'crit: must be a nonempty list');
  }
  if (!header.alg) return false;
  return !Object.keys(header).some((k) => !known.has(k) && crit.has(k));
}

function validAudience(aud: unknown, want: string): boolean {
  if (typeof aud === 'string') return aud === want;
  return Array.isArray(aud) && aud.some((x) => x === want);
}

function decodeVerify(jwt: unknown, constraints: unknown): unknown[] {
  const name = 'io.jwt.decode_verify';
  const c = constraintsOf(name, constraints);
  const unverified = [false, {}, {}];
  let token = jwt;
  let header: JsonObject;
  let payloadBytes: Buffer;
  for (;;) {
    const t = split(name, token);
    header = decodeHeader(name, t);
    if (!headerValid(name, header)) return unverified;
    const alg = header.alg as string;
    if (c.alg !== '' && c.alg !== alg) return unverified;
    const sig = decodeBase64Url(name, t.signature);
    const data = Buffer.from(`${t.header}.${t.payload}`);
    const kid = typeof header.kid === 'string' ? header.kid : '';
    let ok: boolean;
    if (c.keys) {
      const byKid = kid ? c.keys.find((k) => k.kid === kid) : undefined;
      ok = byKid ? verifySignature(alg, byKid.key, data, sig) : c.keys.some((k) => (k.alg === '' || k.alg === alg) && verifySignature(alg, k.key, data, sig));
    } else ok = verifySignature(alg, Buffer.from(c.secret, 'utf8'), data, sig);
    if (!ok) return unverified;
    payloadBytes = decodeBase64Url(name, t.payload);
    if (typeof header.cty === 'string' && header.cty.toUpperCase() === 'JWT') {
      token = payloadBytes.toString('utf8');
      continue;
    }
    break;
  }
  const payload = jsonObject(name, payloadBytes, 'JWT payload');
  if (c.iss !== '' && payload.iss !== c.iss) return unverified;
  if ('aud' in payload) {
    if (!validAudience(payload.aud, c.aud)) return unverified;
  } else if (c.aud !== '') return unverified;
  const now = c.time / 1e9;
  if ('exp' in payload) {
    if (typeof payload.exp !== 'number') throw new BuiltinError(name, 'exp value must be a number');
    if (now >= payload.exp) return unverified;
  }
  if ('nbf' in payload) {
    if (typeof payload.nbf !== 'number') throw new BuiltinError(name, 'nbf value must be a number');
    if (now < payload.nbf) return unverified;
  }
  return [true, header, payload];
}

function signingKey(builtin: string, jwk: string): KeyObject | Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwk);
  } catch {
    throw new BuiltinError(builtin, 'failed to parse JWK');
  }
  const set = parsed as { keys?: JsonWebKey[] };
  const first = Array.isArray(set.keys) ? set.keys[0] : (parsed as JsonWebKey);
  if (!first) throw new BuiltinError(builtin, 'no keys found in JWK set');
  return jwkKey(first, 'private');
}

function encodeSign(builtin: string, headers: string, payload: string, jwk: string): string {
  const key = signingKey(builtin, jwk);
  let parsedHeaders: JsonObject;
  try {
    parsedHeaders = JSON.parse(headers) as JsonObject;
  } catch {
    throw new BuiltinError(builtin, "missing or invalid 'alg' header");
  }
  const alg = parsedHeaders?.alg;
  if (typeof alg !== 'string') throw new BuiltinError(builtin, "missing or invalid 'alg' header");
  if (!ALGORITHMS.has(alg)) throw new BuiltinError(builtin, `unknown JWS algorithm: ${alg}`);
  const typ = parsedHeaders.typ;
  if (typeof typ !== 'string' || typ === 'JWT') {
    try {
      JSON.parse(payload);
    } catch {
      throw new BuiltinError(builtin, 'type is JWT but payload is not JSON');
    }
  }
  const input = `${Buffer.from(headers).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  const data = Buffer.from(input);
  let sig: Buffer;
  if (alg.startsWith('HS')) {
    if (!Buffer.isBuffer(key)) throw new BuiltinError(builtin, `${alg} needs a symmetric (oct) key`);
    sig = createHmac(digestOf(alg)!, key).update(data).digest();
  } else {
    if (Buffer.isBuffer(key)) throw new BuiltinError(builtin, `${alg} needs an asymmetric key`);
    const family = alg.slice(0, 2);
    if (family === 'PS') sig = cryptoSign(digestOf(alg), data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    else if (family === 'ES') sig = cryptoSign(digestOf(alg), data, { key, dsaEncoding: 'ieee-p1363' });
    else sig = cryptoSign(digestOf(alg), data, key);
  }
  return `${input}.${sig.toString('base64url')}`;
}

/** io.jwt.verify_<alg> for a public-key algorithm (the key is a PEM certificate, PEM public key or JWK set). */
function keyVerifier(alg: string): HostBuiltin {
  const name = `io.jwt.verify_${alg.toLowerCase()}`;
  return (jwt: unknown, key: unknown) => verifyWithKeys(name, alg, jwt, key);
}

/** io.jwt.verify_hs<bits>: HMAC with a shared secret. */
function secretVerifier(alg: string): HostBuiltin {
  const name = `io.jwt.verify_${alg.toLowerCase()}`;
  return (jwt: unknown, secret: unknown) => verifyHS(name, alg, jwt, secret);
}

export const jwtBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'io.jwt.decode',
    decl: fn([arg('jwt', t.string)], arg('output', t.tuple(t.objectOf(t.any, t.any), t.objectOf(t.any, t.any), t.string))),
    categories: ['tokens'],
    host: decode,
  },
  {
    name: 'io.jwt.decode_verify',
    decl: fn([arg('jwt', t.string), arg('constraints', t.objectOf(t.string, t.any))], arg('output', t.tuple(t.boolean, t.objectOf(t.any, t.any), t.objectOf(t.any, t.any)))),
    nondeterministic: true,
    categories: ['tokens'],
    host: decodeVerify,
  },
  {
    name: 'io.jwt.encode_sign',
    decl: fn([arg('headers', t.objectOf(t.string, t.any)), arg('payload', t.objectOf(t.string, t.any)), arg('key', t.objectOf(t.string, t.any))], arg('output', t.string)),
    nondeterministic: true,
    categories: ['tokensign'],
    host: (h: unknown, p: unknown, k: unknown) => {
      const name = 'io.jwt.encode_sign';
      return encodeSign(name, goJsonMarshal(obj(name, 1, h)), goJsonMarshal(obj(name, 2, p)), JSON.stringify(obj(name, 3, k)));
    },
  },
  {
    name: 'io.jwt.encode_sign_raw',
    decl: fn([arg('headers', t.string), arg('payload', t.string), arg('key', t.string)], arg('output', t.string)),
    nondeterministic: true,
    categories: ['tokensign'],
    host: (h: unknown, p: unknown, k: unknown) => {
      const name = 'io.jwt.encode_sign_raw';
      return encodeSign(name, str(name, 1, h), str(name, 2, p), str(name, 3, k));
    },
  },
  {
    name: 'io.jwt.verify_eddsa',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('EdDSA'),
  },
  {
    name: 'io.jwt.verify_es256',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('ES256'),
  },
  {
    name: 'io.jwt.verify_es384',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('ES384'),
  },
  {
    name: 'io.jwt.verify_es512',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('ES512'),
  },
  {
    name: 'io.jwt.verify_hs256',
    decl: fn([arg('jwt', t.string), arg('secret', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: secretVerifier('HS256'),
  },
  {
    name: 'io.jwt.verify_hs384',
    decl: fn([arg('jwt', t.string), arg('secret', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: secretVerifier('HS384'),
  },
  {
    name: 'io.jwt.verify_hs512',
    decl: fn([arg('jwt', t.string), arg('secret', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: secretVerifier('HS512'),
  },
  {
    name: 'io.jwt.verify_ps256',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('PS256'),
  },
  {
    name: 'io.jwt.verify_ps384',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('PS384'),
  },
  {
    name: 'io.jwt.verify_ps512',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('PS512'),
  },
  {
    name: 'io.jwt.verify_rs256',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('RS256'),
  },
  {
    name: 'io.jwt.verify_rs384',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('RS384'),
  },
  {
    name: 'io.jwt.verify_rs512',
    decl: fn([arg('jwt', t.string), arg('certificate', t.string)], arg('result', t.boolean)),
    categories: ['tokens'],
    host: keyVerifier('RS512'),
  },
];
