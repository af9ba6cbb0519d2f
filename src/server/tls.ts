// The server's TLS material: certificate, private key and client CA read from disk, checked at start-up (a
// missing file, a key that does not match its certificate: an error naming the file), and reloaded while
// running, as `opa run` does: every --tls-cert-refresh-period, or on change when the period is 0. A reload
// swaps the secure context of every TLS listener (new handshakes use it; open connections carry on). A
// reload that fails keeps the previous material serving and is logged.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server as TlsServer, SecureContextOptions } from 'node:tls';
import { watch } from 'chokidar';
import type { Logger } from 'pino';
import type { Authentication, TlsFiles, TlsOptions } from './listen-options.js';

export class TlsMaterialError extends Error {
  override name = 'TlsMaterialError';
}

interface Material {
  options: SecureContextOptions;
  digest: string;
}

/** What a file is called where it was configured, for error messages. */
export interface TlsFileLabels {
  cert: string;
  key: string;
  ca: string;
}

const flagLabels: TlsFileLabels = { cert: '--tls-cert-file', key: '--tls-private-key-file', ca: '--tls-ca-cert-file' };

function readNamed(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsMaterialError(`${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** Reads and checks a certificate, its key and an optional CA; the error names the file and where it was configured. */
export function loadTlsMaterial(tls: TlsFiles, labels: TlsFileLabels = flagLabels): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const cert = readNamed(tls.certFile, labels.cert);
  const key = readNamed(tls.keyFile, labels.key);
  const ca = tls.caCertFile ? readNamed(tls.caCertFile, labels.ca) : undefined;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new TlsMaterialError(`${labels.cert} ${tls.certFile}: not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsMaterialError(`${labels.key} ${tls.keyFile}: not a PEM private key (${(err as Error).message})`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new TlsMaterialError(`${labels.key} ${tls.keyFile} does not match the certificate in ${labels.cert} ${tls.certFile}`);
  }
  if (ca) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new TlsMaterialError(`${labels.ca} ${tls.caCertFile}: not a PEM certificate (${(err as Error).message})`);
    }
  }
  return { cert, key, ...(ca ? { ca } : {}) };
}

/**
 * Calls onChange when the files may have changed: every refreshMs, or with 0 when one of them is written (a
 * write is reported once it has settled, so a certificate copied in two steps is read whole) and once when the
 * watcher is ready. Returns the stop.
 */
export function watchTlsFiles(tls: TlsFiles, refreshMs: number, onChange: () => void): () => Promise<void> {
  if (refreshMs > 0) {
    const timer = setInterval(onChange, refreshMs);
    timer.unref();
    return async () => clearInterval(timer);
  }
  const files = [tls.certFile, tls.keyFile, ...(tls.caCertFile ? [tls.caCertFile] : [])];
  const watcher = watch(files, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 50 } });
  watcher.on('all', onChange);
  // A file replaced after the server read it but before the watcher was ready raises no event: look once then.
  watcher.on('ready', onChange);
  return () => watcher.close();
}

function loadMaterial(tls: TlsOptions): Material {
  const options = loadTlsMaterial(tls);
  const digest = createHash('sha256').update(options.cert).update(options.key).update(options.ca ?? '').digest('hex');
  return { options, digest };
}

/** The TLS server options for every https listener, and the reloading of their certificates. */
export class ServerTls {
  private material: Material;
  private readonly servers = new Set<TlsServer>();
  private stopWatching?: () => Promise<void>;

  constructor(
    private readonly tls: TlsOptions,
    private readonly authentication: Authentication,
  ) {
    this.material = loadMaterial(tls);
  }

  /** Options for https.createServer. Client certificates are asked for, and required, only with --authentication=tls (as OPA). */
  serverOptions(): SecureContextOptions & { minVersion: TlsOptions['minVersion']; requestCert: boolean; rejectUnauthorized: boolean } {
    const requireClientCert = this.authentication === 'tls';
    return { ...this.material.options, minVersion: this.tls.minVersion, requestCert: requireClientCert, rejectUnauthorized: requireClientCert };
  }

  /** Adds a listener whose secure context follows the files from now on. */
  track(server: TlsServer): void {
    this.servers.add(server);
  }

  startReloading(logger: Logger): void {
    this.stopWatching = watchTlsFiles(this.tls, this.tls.refreshMs, () => this.reload(logger));
  }

  reload(logger: Logger): void {
    let next: Material;
    try {
      next = loadMaterial(this.tls);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'TLS certificate reload failed; the previous certificate stays in use.');
      return;
    }
    if (next.digest === this.material.digest) return;
    this.material = next;
    for (const server of this.servers) server.setSecureContext({ ...next.options, minVersion: this.tls.minVersion });
    logger.info({ cert_file: this.tls.certFile }, 'TLS certificate reloaded.');
  }

  async stop(): Promise<void> {
    await this.stopWatching?.();
  }
}
