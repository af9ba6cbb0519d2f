import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreesWithOpa } from './differential.js';

/** A self-signed CA and a leaf it signs, made with the openssl CLI for this run. */
function certificates(): { ca: string; leaf: string; csr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-x509-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Verdict Test CA/O=Verdict', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf.example.com');
    writeExt(dir);
    run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '10', '-extfile', 'ext.cnf');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.pem'), leaf: read('leaf.pem'), csr: read('leaf.csr') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeExt(dir: string): void {
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:leaf.example.com,DNS:www.example.com,URI:spiffe://example.com/leaf\\n' > ${join(dir, 'ext.cnf')}`]);
}

const { ca, leaf, csr } = certificates();
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const pkcs1 = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
const pkcs8 = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

agreesWithOpa('crypto.* host builtins', [
  { fn: 'crypto.md5', args: ['héllo'] },
  { fn: 'crypto.sha1', args: [''] },
  { fn: 'crypto.sha256', args: ['abc'] },
  { fn: 'crypto.hmac.sha512', args: ['message', 'key'] },
  { fn: 'crypto.hmac.md5', args: ['message', ''] },
  { fn: 'crypto.hmac.equal', args: ['abc', 'abc'] },
  { fn: 'crypto.hmac.equal', args: ['abc', 'abd'] },
  { fn: 'crypto.x509.parse_certificates', args: [leaf + ca], pick: [0, 'Subject', 'CommonName'] },
  { fn: 'crypto.x509.parse_certificates', args: [leaf], pick: [0, 'DNSNames'] },
  { fn: 'crypto.x509.parse_certificates', args: [leaf], pick: [0, 'URIStrings'] },
  { fn: 'crypto.x509.parse_certificates', args: [ca], pick: [0, 'Subject', 'Organization'] },
  { fn: 'crypto.x509.parse_certificates', args: [ca], pick: [0, 'IsCA'] },
  { fn: 'crypto.x509.parse_certificates', args: [Buffer.from(leaf).toString('base64')], pick: [0, 'Issuer', 'CommonName'] },
  { fn: 'crypto.x509.parse_and_verify_certificates', args: [ca + leaf], pick: [0] },
  { fn: 'crypto.x509.parse_and_verify_certificates', args: [ca + leaf], pick: [1, 0, 'Subject', 'CommonName'] },
  { fn: 'crypto.x509.parse_and_verify_certificates', args: [leaf + ca] },
  { fn: 'crypto.x509.parse_certificate_request', args: [csr], pick: ['Subject', 'CommonName'] },
  { fn: 'crypto.x509.parse_rsa_private_key', args: [pkcs1] },
  { fn: 'crypto.parse_private_keys', args: [pkcs8 + pkcs1], pick: [1, 'E'] },
  { fn: 'crypto.parse_private_keys', args: [pkcs8], pick: [0, 'Primes', 1] },
  { fn: 'crypto.parse_private_keys', args: [''] },
]);
