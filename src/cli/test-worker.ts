// The worker thread that runs `verdict test`'s tests (src/cli/test-runner.ts): evaluates each entrypoint from
// `from` on, telling the parent when each starts (so it can time it out) and how it ended. An instance that
// failed mid-evaluation is replaced before the next test, so one test's abort cannot leak into another. Each
// outcome carries the lines the test printed and, for an instrumented module, the cover points it reached.
import { parentPort, workerData } from 'node:worker_threads';
import { hostBuiltins } from '../builtins/index.js';
import { setPrintSink } from '../builtins/print.js';
import { COVER_BUILTIN } from '../compiler/planner/coverage.js';
import { HttpSendClient } from '../builtins/http-send/client.js';
import { evaluateWithHttpSend } from '../engine/http-send-loop.js';
import { loadPolicySync, type WasmPolicy } from '../engine/wasm-host.js';
import { evalErrorDetail } from '../engine/eval-error.js';
import type { Outcome, WorkerMessage } from './test-runner.js';

const { wasm, data, entrypoints, from } = workerData as { wasm: Uint8Array; data: unknown; entrypoints: string[]; from: number };
const module = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
const client = new HttpSendClient();
// What the running test printed and covered, sent with its outcome.
let output: string[] = [];
let covered = new Set<number>();
setPrintSink((line) => output.push(line));
const functions = { ...hostBuiltins, [COVER_BUILTIN]: (id: number) => void covered.add(id) };

function instance(): WasmPolicy {
  const policy = loadPolicySync(module, functions);
  policy.setData(data);
  return policy;
}

let policy = instance();
for (let i = from; i < entrypoints.length; i++) {
  parentPort!.postMessage({ started: i } satisfies WorkerMessage);
  const began = process.hrtime.bigint();
  output = [];
  covered = new Set();
  let outcome: Omit<Outcome, 'output' | 'covered'>;
  try {
    const evaluating = evaluateWithHttpSend(client, () => policy.evaluate(undefined, entrypoints[i]) as Array<{ result?: unknown }>);
    const rows = evaluating instanceof Promise ? await evaluating : evaluating;
    outcome = { pass: rows.length === 1 && rows[0]!.result === true, duration: Number(process.hrtime.bigint() - began) };
  } catch (err) {
    outcome = { pass: false, duration: Number(process.hrtime.bigint() - began), error: evalErrorDetail(err) };
    policy = instance();
  }
  parentPort!.postMessage({ finished: i, outcome: { ...outcome, output, covered: [...covered] } } satisfies WorkerMessage);
}
