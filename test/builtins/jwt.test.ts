import { generateKeyPairSync } from 'node:crypto';
import { hostBuiltins } from '../../src/builtins/index.js';
import { agreesWithOpa, type Call } from './differential.js';

// Keys made for this run: OPA verifies what we sign and we verify the same tokens, so both sides must agree.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsaPrivate = { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'r1' };
const rsaPublicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const ecPrivate = ec.privateKey.export({ format: 'jwk' });
const ecPublicJwks = JSON.stringify({ keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1', alg: 'ES256' }] });
const edPrivate = ed.privateKey.export({ format: 'jwk' });
const edPublicPem = ed.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const secret = 'sekrit';
const octKey = { kty: 'oct', k: Buffer.from(secret).toString('base64url') };

const sign = (headers: object, payload: object, key: object) => hostBuiltins['io.jwt.encode_sign']!(headers, payload, key) as string;
const claims = { iss: 'verdict', aud: ['api', 'web'], sub: 'alice', exp: 2_000_000_000, nbf: 1_000_000_000 };
const hs = sign({ alg: 'HS256', typ: 'JWT' }, claims, octKey);
const rs = sign({ alg: 'RS256', kid: 'r1' }, claims, rsaPrivate);
const ps = sign({ alg: 'PS384' }, claims, rsaPrivate);
const es = sign({ alg: 'ES256', kid: 'e1' }, claims, ecPrivate);
const eddsa = sign({ alg: 'EdDSA' }, claims, edPrivate);
const tampered = `${hs.slice(0, -3)}abc`;
const t = (seconds: number) => seconds * 1e9;

const calls: Call[] = [
  { fn: 'io.jwt.decode', args: [hs] },
  { fn: 'io.jwt.decode', args: [rs] },
  { fn: 'io.jwt.decode', args: ['a.b'], fails: true },
  { fn: 'io.jwt.verify_hs256', args: [hs, secret] },
  { fn: 'io.jwt.verify_hs256', args: [hs, 'wrong'] },
  { fn: 'io.jwt.verify_hs256', args: [tampered, secret] },
  { fn: 'io.jwt.verify_rs256', args: [rs, rsaPublicPem] },
  { fn: 'io.jwt.verify_rs512', args: [rs, rsaPublicPem] },
  { fn: 'io.jwt.verify_ps384', args: [ps, rsaPublicPem] },
  { fn: 'io.jwt.verify_es256', args: [es, ecPublicJwks] },
  { fn: 'io.jwt.verify_es256', args: [rs, ecPublicJwks] },
  { fn: 'io.jwt.verify_eddsa', args: [eddsa, edPublicPem] },
  { fn: 'io.jwt.decode_verify', args: [hs, { secret, time: t(1_500_000_000), iss: 'verdict', aud: 'api' }] },
  { fn: 'io.jwt.decode_verify', args: [hs, { secret, time: t(2_100_000_000) }] },
  { fn: 'io.jwt.decode_verify', args: [hs, { secret, time: t(900_000_000), aud: 'api' }] },
  { fn: 'io.jwt.decode_verify', args: [hs, { secret, time: t(1_500_000_000), aud: 'other' }] },
  { fn: 'io.jwt.decode_verify', args: [es, { cert: ecPublicJwks, time: t(1_500_000_000), aud: 'web', alg: 'ES256' }] },
  { fn: 'io.jwt.decode_verify', args: [rs, { cert: rsaPublicPem, time: t(1_500_000_000), aud: 'web', alg: 'ES256' }] },
  { fn: 'io.jwt.decode_verify', args: [rs, { cert: rsaPublicPem, secret }], fails: true },
  { fn: 'io.jwt.encode_sign', args: [{ alg: 'HS256', typ: 'JWT' }, { b: '<&>', a: [1, 2] }, octKey] },
  { fn: 'io.jwt.encode_sign', args: [{ alg: 'RS256' }, { sub: 'bob' }, rsaPrivate] },
  { fn: 'io.jwt.encode_sign_raw', args: ['{"alg":"HS512"}', '{"x": 1}', JSON.stringify(octKey)] },
  { fn: 'io.jwt.encode_sign_raw', args: ['{"alg":"HS256","typ":"JWT"}', 'not json', JSON.stringify(octKey)], fails: true },
  { fn: 'io.jwt.encode_sign_raw', args: ['{"alg":"none"}', '{}', JSON.stringify(octKey)], fails: true },
];

agreesWithOpa('io.jwt.* host builtins', calls);
