#!/usr/bin/env node
// The verdict command line, modelled on `opa run --server` and `opa eval`/`opa build`:
//   verdict run [flags] [PATH ...]            (opa run's flags, see src/cli/run-flags.ts)
//   verdict sign --signing-key KEY [--signing-alg ALG] [--key-id ID] [--scope S] -o OUT BUNDLE_PATH
//   verdict decisions tail|search|show|export [--db FILE] ...   (reads the decision log file, no server needed)
//   verdict eval ... QUERY, verdict build ... PATH...
// Each subcommand's module is imported only when it runs, so `verdict eval` and `verdict build` do not load
// the server (express, the decision log, PIP adapters) and start quickly.
import { fail, usage } from './cli/usage.js';
import { verdictVersion } from './version.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'version' || command === '--version') {
  console.log(`verdict ${verdictVersion}`);
} else if (command === 'run') {
  await (await import('./cli/run.js')).run(rest);
} else if (command === 'sign') {
  await (await import('./cli/sign.js')).sign(rest);
} else if (command === 'decisions') {
  process.exitCode = await (await import('./decisionlog/index.js')).runDecisionsCommand(rest);
} else if (command === 'eval') {
  process.exitCode = await (await import('./cli/eval-command.js')).evalCommand(rest);
} else if (command === 'test') {
  process.exitCode = await (await import('./cli/test.js')).testCommand(rest);
} else if (command === 'build') {
  process.exitCode = await (await import('./cli/build.js')).buildCommand(rest);
} else {
  fail(`unknown command ${command ?? '(none)'}\n${usage}`);
}
