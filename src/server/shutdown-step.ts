// A shutdown runs in steps (a server's listeners and plugins; a supervisor's threads, decision log and compile
// thread), each with a time bound. A step still unfinished when its time is up is logged with what it was
// waiting for, and the shutdown goes on without it: a process asked to stop always ends.
import type { Logger } from 'pino';

export type StepOutcome = 'done' | 'failed' | 'timed out';

/**
 * Waits for `step` at most `ms`. Timed out: logs `what` with `pending()` (what it still waits for, read at that
 * moment). Failed: logs the error. Never rejects.
 */
export function boundedStep(logger: Logger, what: string, ms: number, step: Promise<unknown>, pending: () => unknown): Promise<StepOutcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      logger.error({ step: what, waited_ms: ms, pending: pending() }, `Shutdown: ${what} did not finish in time; going on without it.`);
      resolve('timed out');
    }, ms);
    step.then(
      () => {
        clearTimeout(timer);
        resolve('done');
      },
      (err: Error) => {
        clearTimeout(timer);
        logger.error({ step: what, err: err.message }, `Shutdown: ${what} failed.`);
        resolve('failed');
      },
    );
  });
}
