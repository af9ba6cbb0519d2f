// The decision log as one long-running part with the server's plugin life cycle (start, stop, status;
// see src/server/plugins.ts on the server branch): the store, the drop/mask pipeline and the optional
// uploader, stopped in the order that loses nothing.
import type { DecisionEvent, DecisionHints } from './event.js';
import type { DecisionLogger, DecisionLoggerStatus, LogResult } from './logger.js';
import type { DecisionLogStatus, DecisionLogStore } from './store.js';
import type { DecisionLogUploader, UploadStatus } from './upload.js';

export interface DecisionLogPluginStatus {
  /** OPA's plugin states: ERROR when decisions cannot be written, WARN when only the upload is failing,
   *  NOT_READY once stopped. */
  state: 'OK' | 'ERROR' | 'WARN' | 'NOT_READY';
  store: DecisionLogStatus;
  logger: DecisionLoggerStatus;
  upload?: UploadStatus;
}

export class DecisionLogPlugin {
  readonly name = 'decision_logs';
  readonly kind = 'other';
  private running = false;

  constructor(
    readonly store: DecisionLogStore,
    readonly logger: DecisionLogger,
    private shipper?: DecisionLogUploader,
  ) {}

  get uploader(): DecisionLogUploader | undefined {
    return this.shipper;
  }

  /** The server's per-decision hook. Never rejects; in sync durability await it before answering. */
  readonly onDecision = (event: DecisionEvent, hints?: DecisionHints): Promise<LogResult> => this.logger.log(event, hints);

  async start(): Promise<void> {
    this.running = true;
    this.uploader?.start();
  }

  /**
   * Ships to a new destination (discovery): the old uploader finishes its round, the new one carries on from the
   * watermark in the database, so nothing is shipped twice or skipped.
   */
  async replaceUploader(next: DecisionLogUploader | undefined): Promise<void> {
    const previous = this.shipper;
    this.shipper = next;
    await previous?.stop();
    if (this.running) next?.start();
  }

  /** Writes the queue, ships what it can (OPA flushes on shutdown), then closes the database. */
  async stop(): Promise<void> {
    this.running = false;
    await this.uploader?.stop();
    // A failing flush is reported by close() below; shipping what is committed is still worth trying.
    await this.store.flush().catch(() => undefined);
    await this.uploader?.uploadPending().catch(() => undefined);
    await this.store.close();
  }

  status(): DecisionLogPluginStatus {
    const store = this.store.status();
    const upload = this.uploader?.status();
    const state =
      store.state === 'CLOSED' ? 'NOT_READY' : store.state === 'ERROR' ? 'ERROR' : upload?.state === 'ERROR' ? 'WARN' : 'OK';
    return { state, store, logger: this.logger.status(), ...(upload ? { upload } : {}) };
  }
}
