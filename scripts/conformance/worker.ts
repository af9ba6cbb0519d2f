// Worker thread: runs the cases the main thread hands it, one at a time, and posts back each outcome.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { BuildSettings } from './build.js';
import type { ConformanceCase } from './cases.js';
import { runCase, type Backend, type CompilePlan, type Planner } from './run-case.js';
import { ourPlanner } from './our-planner.js';

export interface WorkerSetup {
  settings: BuildSettings;
  backend: Backend;
  planner: Planner;
  /** Absolute path of the compiled back end (dist/src/wasm/compile.js) when backend is "verdict". */
  compileModule?: string;
}

export interface CaseMessage {
  id: number;
  case: ConformanceCase;
}

const setup = workerData as WorkerSetup;

async function loadCompilePlan(): Promise<CompilePlan | undefined> {
  if (!setup.compileModule) return undefined;
  const mod = (await import(pathToFileURL(setup.compileModule).href)) as { compilePlan?: CompilePlan };
  if (typeof mod.compilePlan !== 'function') throw new Error(`${setup.compileModule} does not export compilePlan`);
  return mod.compilePlan;
}

const compilePlan = await loadCompilePlan();
const planCase = setup.planner === 'verdict' ? await ourPlanner(setup.settings) : undefined;

parentPort!.on('message', async (msg: CaseMessage) => {
  // Cases may set environment variables (opa.runtime().env); a worker's process.env is its own copy.
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(msg.case.env ?? {})) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    const outcome = await runCase(setup.settings, setup.backend, compilePlan, msg.case, planCase);
    parentPort!.postMessage({ id: msg.id, outcome });
  } catch (e) {
    const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
    parentPort!.postMessage({ id: msg.id, outcome: { status: 'fail', cause: 'runner crash', detail } });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
