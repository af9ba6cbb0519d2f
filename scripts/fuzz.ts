// npm run fuzz [-- --seed N] [--count N] [--seconds N]: the request-body differential fuzz test
// (test/server/body-fuzz.ts) against `opa run --server`, bounded in count and in time. Prints each
// difference, then how many cases ran, and exits 1 when any differed.
import { parseArgs } from 'node:util';
import { startOpa, startVerdict, writeTree } from '../test/server/harness.js';
import { compareCase, fuzzCases, fuzzPolicy } from '../test/server/body-fuzz.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, count: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '120' } } });
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const count = Number(values.count);
const deadline = Date.now() + Number(values.seconds) * 1000;

const dir = writeTree({ '.manifest': '{"roots":["fuzz"]}', 'fuzz/policy.rego': fuzzPolicy, 'config.yaml': '{}\n' });
const [opa, verdict] = await Promise.all([startOpa(`${dir}/config.yaml`, [dir]), startVerdict('{}', [dir])]);
let ran = 0;
let differed = 0;
try {
  for (const c of fuzzCases(seed, count)) {
    if (Date.now() > deadline) break;
    const difference = await compareCase(opa.url, verdict.url, c);
    ran++;
    if (difference) {
      differed++;
      console.log(`case ${ran - 1}: ${difference}`);
    }
  }
} finally {
  await Promise.all([opa.stop(), verdict.close()]);
}
console.log(`seed ${seed}: ${ran} cases, ${differed} differed`);
process.exitCode = differed > 0 ? 1 : 0;
