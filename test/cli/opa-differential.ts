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
