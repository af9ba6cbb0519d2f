// Public face of the PIP layer for the server: build an Enricher from the raw `pip` config section.

import { adapterFactories } from './adapters/index.js';
import { parsePipConfig } from './config.js';
import { Enricher } from './enrich.js';

export { Enricher, type AdapterStatus, type EnrichmentResult } from './enrich.js';
export { pipConfigSchema, parsePipConfig, type PipConfig } from './config.js';
export { PipConfigError, PipDenyError, PipInputError } from './errors.js';
export type { EnrichmentReport, AdapterRun } from './report.js';
export type { AdapterMetrics } from './metrics.js';
export { LATENCY_BUCKETS_MS, prometheusText } from './metrics.js';

/** Validates the `pip` config section and builds every adapter; throws PipConfigError naming what is wrong. */
export function createEnricher(pipSection: unknown): Enricher {
  return new Enricher(parsePipConfig(pipSection), adapterFactories);
}
