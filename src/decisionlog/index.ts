// The decision log's public surface, for the server and the CLI to wire in.
export { type DecisionEvent, type DecisionError, type DecisionHints, newDecisionEvent, newDecisionId, formatTimestamp, nowNs, requestContextHeaders } from './event.js';
export { DecisionLogError, decisionLogErrorCodes, type DecisionLogErrorCode } from './errors.js';
export { DecisionLogStore, type DecisionLogStoreOptions, type DecisionLogStatus, type Durability, type WhenFull, type RecordResult } from './store.js';
export { DecisionLogger, type Decide, type DecisionLogPolicyOptions, type DecisionLoggerStatus, type LogResult } from './logger.js';
export { DecisionLogPlugin, type DecisionLogPluginStatus } from './plugin.js';
export { applyMask, shouldDrop } from './mask.js';
export { credentialHeaders } from './credentials.js';
export { queryDecisions, findDecision, allDecisions, type DecisionFilters, type DecisionPage, type StoredDecision } from './query.js';
export { decisionsRouter } from './router.js';
export { runDecisionsCommand, decisionsUsage } from './cli.js';
export { DecisionLogUploader, type UploadOptions, type UploadStatus } from './upload.js';
export { defaultDatabaseFile } from './open.js';
export { decisionLogSettings, DecisionLogConfigError, type DecisionLogSettings } from './config.js';
export type { RetentionOptions } from './retention.js';
export type { OutcomeRuleConfig, Outcome } from './outcome.js';
export type { PrincipalSource } from './principal.js';
