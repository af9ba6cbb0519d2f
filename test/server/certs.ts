// Throw-away certificates for TLS tests, made with openssl (installed by scripts/install-system-deps.sh): a CA,
// server certificates for 127.0.0.1 signed by it, client certificates (one from a CA the server does not trust).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  ca: string;
  /** Server certificate and key, CN=verdict-a. */
  serverA: { cert: string; key: string };
  /** A second server certificate (CN=verdict-b), for rotation. */
  serverB: { cert: string; key: string };
  /** Client certificate, subject O=Acme, CN=client, signed by `ca`. */
  client: { cert: string; key: string };
  /** A client certificate from a CA the server does not trust. */
  stranger: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, caName: string, ext: string): { cert: string; key: string } {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

function authority(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.pem`]);
}

export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-certs-'));
  authority(dir, 'ca');
  authority(dir, 'other-ca');
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverA: issue(dir, 'server-a', '/CN=verdict-a', 'ca', serverExt),
    serverB: issue(dir, 'server-b', '/CN=verdict-b', 'ca', serverExt),
    client: issue(dir, 'client', '/O=Acme/CN=client', 'ca', clientExt),
    stranger: issue(dir, 'stranger', '/O=Acme/CN=client', 'other-ca', clientExt),
  };
}
