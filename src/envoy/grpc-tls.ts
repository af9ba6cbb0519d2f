// TLS for the ext_authz gRPC port that follows its files while running, as the HTTP listeners' certificates do:
// a changed certificate, key or client CA is read and checked, then used for new connections (open ones carry
// on). A change that does not load (a half-written file, a key that does not match) keeps the previous material
// serving and is logged.
import * as grpc from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { loadTlsMaterial, watchTlsFiles, type TlsFileLabels } from '../server/tls.js';
import type { TlsFiles } from '../server/listen-options.js';

type Material = ReturnType<typeof loadTlsMaterial>;

function contextOptions(material: Material): SecureContextOptions {
  return { cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) };
}

function sameMaterial(a: Material, b: Material): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca));
}

/** Server credentials whose certificate, key and client CA are re-read whenever their files change. */
export class ReloadingServerCredentials extends grpc.ServerCredentials {
  private material: Material;
  private stopWatching?: () => Promise<void>;

  /** Reads the files now: a missing or mismatched file is an error naming the key it was configured under. */
  static load(files: TlsFiles, labels: TlsFileLabels, logger?: Logger): ReloadingServerCredentials {
    return new ReloadingServerCredentials(files, labels, loadTlsMaterial(files, labels), logger);
  }

  private constructor(
    private readonly files: TlsFiles,
    private readonly labels: TlsFileLabels,
    material: Material,
    private readonly logger?: Logger,
  ) {
    // With a client CA, client certificates signed by it are required (mutual TLS).
    const mutual = files.caCertFile !== undefined;
    super({ requestCert: mutual, rejectUnauthorized: mutual }, contextOptions(material));
    this.material = material;
  }

  startWatching(): void {
    this.stopWatching ??= watchTlsFiles(this.files, 0, () => this.reload());
  }

  async stopWatchingFiles(): Promise<void> {
    await this.stopWatching?.();
    this.stopWatching = undefined;
  }

  reload(): void {
    let next: Material;
    try {
      next = loadTlsMaterial(this.files, this.labels);
    } catch (err) {
      this.logger?.error({ err: (err as Error).message }, 'gRPC TLS certificate reload failed; the previous certificate stays in use.');
      return;
    }
    if (sameMaterial(next, this.material)) return;
    this.material = next;
    this.updateSecureContextOptions(contextOptions(next));
    this.logger?.info({ cert_file: this.files.certFile }, 'gRPC TLS certificate reloaded.');
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}
