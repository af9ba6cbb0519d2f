// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface TlsFixtures {
  dir: string;
  caCertPath: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
  clientKeyPath: string;
  clientCertPath: string;
}

export function makeTlsFixtures(): TlsFixtures {
  const dir = tempDir('verdict-tls-');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=verdict test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=verdict-${who}`);
    ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2',
      ...(who === 'server' ? ['-extfile', 'server.ext'] : []));
  }
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caCertPath: join(dir, 'ca.crt'),
    caCert: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientKeyPath: join(dir, 'client.key'),
    clientCertPath: join(dir, 'client.crt'),
  };
}
