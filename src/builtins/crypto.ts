// crypto.* host builtins on node:crypto: digests and HMACs of UTF-8 strings, X.509 certificates and
// requests, key pairs and private keys. Certificates come back with the fields policies read from Go's
// x509.Certificate JSON (Subject, Issuer, validity, serial, SANs, URIStrings, IsCA, Raw); the rest of
// Go's struct is not reproduced. Private keys come back as Go's encoding/json prints them.
import {
  X509Certificate,
  createHash,
  createHmac,
  createPrivateKey,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { BuiltinError, exactInteger, obj, str, type JsonObject } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

interface PemBlock {
  type: string;
  der: Buffer;
}

function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') }));
}

/** Go's base64.StdEncoding.DecodeString: strict alphabet and padding. */
function decodeStdBase64(builtin: string, s: string): Buffer {
  const body = s.replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new BuiltinError(builtin, 'illegal base64 data');
  return Buffer.from(body, 'base64');
}

/** Splits concatenated DER certificates (Go's x509.ParseCertificates) by their outer SEQUENCE lengths. */
function splitDer(der: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < der.length; ) {
    if (der[off] !== 0x30) throw new Error('x509: malformed certificate');
    let len = der[off + 1]!;
    let header = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[off + 2 + i]!;
      header = 2 + n;
    }
    out.push(der.subarray(off, off + header + len));
    off += header + len;
  }
  return out;
}

function certsFromString(builtin: string, input: string): X509Certificate[] {
  let text: string | Buffer = input;
  if (!input.startsWith('-----BEGIN')) {
    const decoded = decodeStdBase64(builtin, input);
    if (!decoded.subarray(0, 10).toString('latin1').startsWith('-----BEGIN')) {
      return splitDer(decoded).map((d) => new X509Certificate(d));
    }
    text = decoded.toString('utf8');
  }
  const blocks = pemBlocks(text.toString());
  const wrong = blocks.find((b) => b.type !== 'CERTIFICATE');
  if (wrong) throw new BuiltinError(builtin, `PEM block type is '${wrong.type}', expected CERTIFICATE`);
  return blocks.flatMap((b) => splitDer(b.der)).map((d) => new X509Certificate(d));
}

const NAME_FIELDS: Record<string, string> = {
  C: 'Country',
  O: 'Organization',
  OU: 'OrganizationalUnit',
  L: 'Locality',
  ST: 'Province',
  street: 'StreetAddress',
  postalCode: 'PostalCode',
};

/** Node's "CN=x\nO=y" distinguished name as Go's pkix.Name JSON. */
function pkixName(dn: string): JsonObject {
  const name: JsonObject = { CommonName: '', SerialNumber: '' };
  for (const f of Object.values(NAME_FIELDS)) name[f] = null;
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'CN') name.CommonName = value;
    else if (key === 'serialNumber') name.SerialNumber = value;
    else if (NAME_FIELDS[key]) {
      const field = NAME_FIELDS[key];
      name[field] = [...((name[field] as string[] | null) ?? []), value];
    }
  }
  return name;
}

/** Subject alternative names by kind, null where absent (Go's nil slices). */
function altNames(cert: X509Certificate): Record<string, string[] | null> {
  const out: Record<string, string[] | null> = { DNS: null, URI: null, IP: null, email: null };
  for (const entry of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    let kind = entry.slice(0, colon);
    if (kind === 'IP Address') kind = 'IP';
    if (!(kind in out)) continue;
    (out[kind] ??= []).push(entry.slice(colon + 1).replace(/^"|"$/g, ''));
  }
  return out;
}

function certJson(cert: X509Certificate): JsonObject {
  const san = altNames(cert);
  return {
    Raw: cert.raw.toString('base64'),
    Subject: pkixName(cert.subject),
    Issuer: pkixName(cert.issuer),
    SerialNumber: Number(BigInt(`0x${cert.serialNumber}`)),
    NotBefore: new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'),
    NotAfter: new Date(cert.validTo).toISOString().replace('.000Z', 'Z'),
    IsCA: cert.ca,
    DNSNames: san.DNS,
    EmailAddresses: san.email,
    IPAddresses: san.IP,
    URIStrings: san.URI,
  };
}

/** Extended key usage names OPA accepts, with their OIDs. */
const EXT_KEY_USAGES: Record<string, string> = {
  KeyUsageAny: '2.5.29.37.0',
  KeyUsageServerAuth: '1.3.6.1.5.5.7.3.1',
  KeyUsageClientAuth: '1.3.6.1.5.5.7.3.2',
  KeyUsageCodeSigning: '1.3.6.1.5.5.7.3.3',
  KeyUsageEmailProtection: '1.3.6.1.5.5.7.3.4',
  KeyUsageIPSECEndSystem: '1.3.6.1.5.5.7.3.5',
  KeyUsageIPSECTunnel: '1.3.6.1.5.5.7.3.6',
  KeyUsageIPSECUser: '1.3.6.1.5.5.7.3.7',
  KeyUsageTimeStamping: '1.3.6.1.5.5.7.3.8',
  KeyUsageOCSPSigning: '1.3.6.1.5.5.7.3.9',
  KeyUsageMicrosoftServerGatedCrypto: '1.3.6.1.4.1.311.10.3.3',
  KeyUsageNetscapeServerGatedCrypto: '2.16.840.1.113730.4.1',
  KeyUsageMicrosoftCommercialCodeSigning: '1.3.6.1.4.1.311.2.1.22',
  KeyUsageMicrosoftKernelCodeSigning: '1.3.6.1.4.1.311.61.1.1',
};

/** Go's x509.VerifyOptions as far as OPA exposes them. */
interface VerifyOptions {
  /** Milliseconds since the epoch. */
  now: number;
  dnsName?: string;
  /** OIDs; Go assumes server authentication when none are given. */
  usages: string[];
}

/** Chain from the last certificate (leaf) through the others up to the first (root), as Go verifies it. */
function verifyChain(certs: X509Certificate[], opts: VerifyOptions): X509Certificate[] | undefined {
  if (certs.length < 2) return undefined;
  const root = certs[0]!;
  const intermediates = certs.slice(1, -1);
  const leaf = certs[certs.length - 1]!;
  if (opts.dnsName !== undefined && leaf.checkHost(opts.dnsName) === undefined) return undefined;
  const current = (c: X509Certificate) => Date.parse(c.validFrom) <= opts.now && opts.now <= Date.parse(c.validTo);
  // A certificate without the extended key usage extension allows every usage.
  const usable = (c: X509Certificate) =>
    opts.usages.includes(EXT_KEY_USAGES.KeyUsageAny!) || !c.keyUsage || c.keyUsage.some((u) => u === EXT_KEY_USAGES.KeyUsageAny || opts.usages.includes(u));
  const signedBy = (c: X509Certificate, issuer: X509Certificate) => issuer.ca && c.checkIssued(issuer) && c.verify(issuer.publicKey);
  const chain = [leaf];
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const cert = chain[chain.length - 1]!;
    if (!current(cert) || !usable(cert)) return undefined;
    if (signedBy(cert, root)) return current(root) ? [...chain, root] : undefined;
    const next = intermediates.find((i) => !chain.includes(i) && signedBy(cert, i));
    if (!next) return undefined;
    chain.push(next);
  }
  return undefined;
}

function verifyOptions(name: string, v: unknown): VerifyOptions {
  const opts: VerifyOptions = { now: Date.now(), usages: [EXT_KEY_USAGES.KeyUsageServerAuth!] };
  for (const [k, value] of Object.entries(obj(name, 2, v))) {
    if (k === 'DNSName') {
      if (typeof value !== 'string') throw new BuiltinError(name, "'DNSName' should be a string");
      opts.dnsName = value.replace(/^"+|"+$/g, '');
    } else if (k === 'CurrentTime') {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new BuiltinError(name, "'CurrentTime' should be a valid int64 number");
      opts.now = value / 1e6;
    } else if (k === 'KeyUsages') {
      if (!Array.isArray(value)) throw new BuiltinError(name, "'KeyUsages' should be an Array or Set");
      opts.usages = value.map((u) => {
        const oid = EXT_KEY_USAGES[String(u)];
        if (!oid) throw new BuiltinError(name, `invalid entries for 'KeyUsages' found: ${String(u)}`);
        return oid;
      });
    } else if (k === 'MaxConstraintComparisons') {
      if (typeof value !== 'number') throw new BuiltinError(name, "'MaxConstraintComparisons' should be a number");
    }
  }
  return opts;
}

function parseAndVerify(name: string, input: unknown, opts: () => VerifyOptions): unknown[] {
  const text = str(name, 1, input);
  let certs: X509Certificate[];
  try {
    certs = certsFromString(name, text);
  } catch {
    return [false, []];
  }
  const chain = verifyChain(certs, opts());
  return chain ? [true, chain.map(certJson)] : [false, []];
}

function privateKeys(builtin: string, input: string): KeyObject[] {
  let text = input;
  try {
    const decoded = decodeStdBase64(builtin, input);
    text = decoded.toString('utf8');
  } catch {
    // Not base64: PEM as given.
  }
  const keys: KeyObject[] = [];
  for (const b of pemBlocks(text)) {
    if (b.type === 'RSA PRIVATE KEY') keys.push(createPrivateKey({ key: b.der, format: 'der', type: 'pkcs1' }));
    else if (b.type === 'PRIVATE KEY') keys.push(createPrivateKey({ key: b.der, format: 'der', type: 'pkcs8' }));
    else if (b.type === 'EC PRIVATE KEY') keys.push(createPrivateKey({ key: b.der, format: 'der', type: 'sec1' }));
  }
  return keys;
}

const bigFromB64u = (v: unknown) => exactInteger(BigInt(`0x${Buffer.from(String(v), 'base64url').toString('hex') || '0'}`));

/** A private key as Go's encoding/json prints crypto.PrivateKey values (big integers as numbers). */
function goPrivateKeyJson(key: KeyObject): unknown {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    return {
      N: bigFromB64u(jwk.n),
      E: Number(bigFromB64u(jwk.e)),
      D: bigFromB64u(jwk.d),
      Primes: [bigFromB64u(jwk.p), bigFromB64u(jwk.q)],
      Precomputed: { Dp: bigFromB64u(jwk.dp), Dq: bigFromB64u(jwk.dq), Qinv: bigFromB64u(jwk.qi), CRTValues: [] },
    };
  }
  if (jwk.kty === 'EC') return { Curve: {}, X: bigFromB64u(jwk.x), Y: bigFromB64u(jwk.y), D: bigFromB64u(jwk.d) };
  // ed25519.PrivateKey is a byte slice: seed followed by the public key, base64 in JSON.
  return Buffer.concat([Buffer.from(String(jwk.d), 'base64url'), Buffer.from(String(jwk.x), 'base64url')]).toString('base64');
}

function pemOrBase64(builtin: string, input: string): string {
  return input.startsWith('-----BEGIN ') ? input : decodeStdBase64(builtin, input).toString('utf8');
}

function keyPair(certInput: unknown, keyInput: unknown): JsonObject {
  const name = 'crypto.x509.parse_keypair';
  let certText = str(name, 1, certInput);
  if (!certText.startsWith('-----BEGIN ')) {
    const der = decodeStdBase64(name, certText);
    certText = der.subarray(0, 11).toString('latin1') === '-----BEGIN ' ? der.toString('utf8') : `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  }
  const certs = pemBlocks(certText).filter((b) => b.type === 'CERTIFICATE');
  if (certs.length === 0) throw new BuiltinError(name, 'tls: failed to find any PEM data in certificate input');
  const keys = privateKeys(name, pemOrBase64(name, str(name, 2, keyInput)));
  if (keys.length === 0) throw new BuiltinError(name, 'tls: failed to find any PEM data in key input');
  const leaf = new X509Certificate(certs[0]!.der);
  if (!leaf.checkPrivateKey(keys[0]!)) throw new BuiltinError(name, 'tls: private key does not match public key');
  return { Certificate: certs.map((c) => c.der.toString('base64')), PrivateKey: keys[0]!.export({ format: 'jwk' }), Leaf: null };
}

function certificateRequest(v: unknown): JsonObject {
  const name = 'crypto.x509.parse_certificate_request';
  const input = str(name, 1, v);
  const text = input.startsWith('-----BEGIN CERTIFICATE REQUEST-----') ? input : decodeStdBase64(name, input).toString('latin1');
  const blocks = pemBlocks(text);
  if (blocks.length > 0 && blocks[0]!.type !== 'CERTIFICATE REQUEST') throw new BuiltinError(name, 'invalid PEM-encoded certificate signing request');
  const der = blocks.length > 0 ? blocks[0]!.der : Buffer.from(text, 'latin1');
  return { Subject: { CommonName: csrCommonName(der) }, Raw: der.toString('base64') };
}

/** The subject CommonName of a DER CSR: the first 2.5.4.3 attribute's string value. */
function csrCommonName(der: Buffer): string {
  const oid = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
  if (der[0] !== 0x30) throw new BuiltinError('crypto.x509.parse_certificate_request', 'asn1: structure error: not a certificate request');
  const at = der.indexOf(oid);
  if (at < 0) return '';
  const len = der[at + oid.length + 1]!;
  return der.subarray(at + oid.length + 2, at + oid.length + 2 + len).toString('utf8');
}

function digest(algorithm: string, name: string) {
  return (v: unknown) => createHash(algorithm).update(str(name, 1, v), 'utf8').digest('hex');
}

function hmac(algorithm: string, name: string) {
  return (x: unknown, key: unknown) => createHmac(algorithm, str(name, 2, key)).update(str(name, 1, x), 'utf8').digest('hex');
}

export const cryptoBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'crypto.hmac.equal',
    decl: fn([arg('mac1', t.string), arg('mac2', t.string)], arg('result', t.boolean)),
    host: (a: unknown, b: unknown) => {
      const x = Buffer.from(str('crypto.hmac.equal', 1, a));
      const y = Buffer.from(str('crypto.hmac.equal', 2, b));
      return x.length === y.length && timingSafeEqual(x, y);
    },
  },
  {
    name: 'crypto.hmac.md5',
    decl: fn([arg('x', t.string), arg('key', t.string)], arg('y', t.string)),
    host: hmac('md5', 'crypto.hmac.md5'),
  },
  {
    name: 'crypto.hmac.sha1',
    decl: fn([arg('x', t.string), arg('key', t.string)], arg('y', t.string)),
    host: hmac('sha1', 'crypto.hmac.sha1'),
  },
  {
    name: 'crypto.hmac.sha256',
    decl: fn([arg('x', t.string), arg('key', t.string)], arg('y', t.string)),
    host: hmac('sha256', 'crypto.hmac.sha256'),
  },
  {
    name: 'crypto.hmac.sha512',
    decl: fn([arg('x', t.string), arg('key', t.string)], arg('y', t.string)),
    host: hmac('sha512', 'crypto.hmac.sha512'),
  },
  {
    name: 'crypto.md5',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    host: digest('md5', 'crypto.md5'),
  },
  {
    name: 'crypto.parse_private_keys',
    decl: fn([arg('keys', t.string)], arg('output', t.arrayOf(t.objectOf(t.string, t.any)))),
    host: (v: unknown) => {
      const name = 'crypto.parse_private_keys';
      const input = str(name, 1, v);
      if (input === '') return null;
      return privateKeys(name, input).map(goPrivateKeyJson);
    },
  },
  {
    name: 'crypto.sha1',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    host: digest('sha1', 'crypto.sha1'),
  },
  {
    name: 'crypto.sha256',
    decl: fn([arg('x', t.string)], arg('y', t.string)),
    host: digest('sha256', 'crypto.sha256'),
  },
  {
    name: 'crypto.x509.parse_and_verify_certificates',
    decl: fn([arg('certs', t.string)], arg('output', t.tuple(t.boolean, t.arrayOf(t.objectOf(t.string, t.any))))),
    host: (v: unknown) =>
      parseAndVerify('crypto.x509.parse_and_verify_certificates', v, () => verifyOptions('crypto.x509.parse_and_verify_certificates', {})),
  },
  {
    name: 'crypto.x509.parse_and_verify_certificates_with_options',
    decl: fn([arg('certs', t.string), arg('options', t.objectOf(t.string, t.any))], arg('output', t.tuple(t.boolean, t.arrayOf(t.objectOf(t.string, t.any))))),
    host: (v: unknown, o: unknown) =>
      parseAndVerify('crypto.x509.parse_and_verify_certificates_with_options', v, () =>
        verifyOptions('crypto.x509.parse_and_verify_certificates_with_options', o),
      ),
  },
  {
    name: 'crypto.x509.parse_certificate_request',
    decl: fn([arg('csr', t.string)], arg('output', t.objectOf(t.string, t.any))),
    host: certificateRequest,
  },
  {
    name: 'crypto.x509.parse_certificates',
    decl: fn([arg('certs', t.string)], arg('output', t.arrayOf(t.objectOf(t.string, t.any)))),
    host: (v: unknown) => certsFromString('crypto.x509.parse_certificates', str('crypto.x509.parse_certificates', 1, v)).map(certJson),
  },
  {
    name: 'crypto.x509.parse_keypair',
    decl: fn([arg('cert', t.string), arg('pem', t.string)], arg('output', t.objectOf(t.string, t.any))),
    host: keyPair,
  },
  {
    name: 'crypto.x509.parse_rsa_private_key',
    decl: fn([arg('pem', t.string)], arg('output', t.objectOf(t.string, t.any))),
    host: (v: unknown) => {
      const name = 'crypto.x509.parse_rsa_private_key';
      const blocks = pemBlocks(str(name, 1, v));
      if (blocks.length === 0) throw new BuiltinError(name, 'failed to parse PEM block containing the key');
      return createPrivateKey({ key: blocks[0]!.der, format: 'der', type: 'pkcs1' }).export({ format: 'jwk' });
    },
  },
];
