// One command line run by the reference OPA and by verdict, in the same folder, for differential tests.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';
import { referenceOpa } from '../engine/opa-fixture.js';

export interface BothRuns {
  theirs: SpawnSyncReturns<string>;
  ours: SpawnSyncReturns<string>;
}

export function runBoth(argv: string[], cwd: string): BothRuns {
  return {
    theirs: spawnSync(referenceOpa(), argv, { cwd, encoding: 'utf8' }),
    ours: spawnSync(process.execPath, [resolve('dist/src/main.js'), ...argv], { cwd, encoding: 'utf8' }),
  };
}

/** An `opa eval`/`opa check` JSON answer without OPA's stack_trace, which verdict does not print. */
export function withoutStackTraces(json: string): unknown {
  const out = JSON.parse(json) as { errors?: Record<string, unknown>[] };
  for (const e of out.errors ?? []) delete e.stack_trace;
  return out;
}
