// One catalogue of decision-log failures. Each carries a code (stable, for status and API bodies) and the
// exit code the CLI uses when the failure ends a command.
export const decisionLogErrorCodes = {
  /** The database file is not a SQLite database or is damaged. */
  db_corrupt: 3,
  /** Another process holds a lock on the database file and did not release it in time. */
  db_locked: 4,
  /** The file exists but was written by an incompatible schema version. */
  db_incompatible: 5,
  /** Anything else that stops the database from opening (permissions, missing folder...). */
  db_open_failed: 6,
  /** A batch could not be committed (disk full, I/O error); the events stay queued. */
  db_write_failed: 7,
  /** The event handed to record() lacks what the store needs. */
  invalid_event: 8,
  /** record() after close(). */
  store_closed: 9,
  /** The mask policy returned something that is not a list of mask rules. */
  invalid_mask: 10,
  /** A query filter is malformed. */
  invalid_query: 2,
} as const;

export type DecisionLogErrorCode = keyof typeof decisionLogErrorCodes;

export class DecisionLogError extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: DecisionLogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DecisionLogError';
    this.exitCode = decisionLogErrorCodes[code];
  }
}
