// Public face of the PIP layer for the server: build an Enricher from the raw `pip` config section.

import { adapterKinds } from './adapters/index.js';
import { parsePipConfig } from './config.js';
import { Enricher } from './enrich.js';
import { prepareAdapters } from './prepare.js';

export { Enricher, type AdapterStatus, type EnrichmentResult } from './enrich.js';
export { pipConfigSchema, parsePipConfig, type PipConfig } from './config.js';
export { PipConfigError, PipDenyError, PipInputError } from './errors.js';
export type { EnrichmentReport, AdapterRun } from './report.js';
export type { AdapterMetrics } from './metrics.js';
export { LATENCY_BUCKETS_MS, prometheusText } from './metrics.js';

/**
 * Checks the `pip` config section as createEnricher does, opening nothing: no file watcher, database handle,
 * pool or connection. Throws PipConfigError naming what is wrong.
 */
export function checkPipConfig(pipSection: unknown): void {
  prepareAdapters(parsePipConfig(pipSection), adapterKinds);
}

/**
 * Opens every adapter as createEnricher does, then closes them: what only opening finds (a SQLite query that does
 * not compile against its database) throws its PipConfigError here. For the thread that starts a server's
 * threads, which serve through adapters of their own: it stops start-up before a port is bound or a thread started.
 */
export async function probePipAdapters(pipSection: unknown): Promise<void> {
  await createEnricher(pipSection).close();
}

/** Validates the `pip` config section and builds every adapter; throws PipConfigError naming what is wrong. */
export function createEnricher(pipSection: unknown): Enricher {
  return new Enricher(parsePipConfig(pipSection), adapterKinds);
}
