#!/usr/bin/env node
// The verdict command line, modelled on opa's: run, eval, test, check, fmt, parse, build, sign, decisions, replay, capabilities, version (usage.ts lists
// them). Each subcommand's module is imported only when it runs, so `verdict eval`, `verdict test` and
// `verdict build` do not load the server (express, the decision log, PIP adapters) and start quickly.
import { fail, usage } from './cli/usage.js';

const [command, ...rest] = process.argv.slice(2);
const help = rest.includes('--help') || rest.includes('-h');
if (command === '--help' || command === '-h' || command === 'help') {
  console.log(usage);
} else if (command === 'version' || command === '--version') {
  console.log((await import('./cli/version.js')).versionText());
} else if (command === 'run') {
  await (await import('./cli/run.js')).run(rest);
} else if (command === 'sign') {
  if (help) console.log(usage);
  else await (await import('./cli/sign.js')).sign(rest);
} else if (command === 'decisions') {
  process.exitCode = await (await import('./decisionlog/index.js')).runDecisionsCommand(help ? ['help'] : rest);
} else if (command === 'replay') {
  process.exitCode = await (await import('./replay/cli.js')).runReplayCommand(rest);
} else if (command === 'eval') {
  process.exitCode = await (await import('./cli/eval-command.js')).evalCommand(rest);
} else if (command === 'test') {
  process.exitCode = await (await import('./cli/test.js')).testCommand(rest);
} else if (command === 'check') {
  process.exitCode = await (await import('./cli/check.js')).checkCommand(rest);
} else if (command === 'fmt') {
  process.exitCode = await (await import('./cli/fmt.js')).fmtCommand(rest);
} else if (command === 'parse') {
  process.exitCode = await (await import('./cli/parse.js')).parseCommand(rest);
} else if (command === 'build') {
  process.exitCode = await (await import('./cli/build.js')).buildCommand(rest);
} else if (command === 'deps') {
  process.exitCode = await (await import('./cli/deps.js')).depsCommand(rest);
} else if (command === 'inspect') {
  process.exitCode = await (await import('./cli/inspect.js')).inspectCommand(rest);
} else if (command === 'capabilities') {
  process.exitCode = await (await import('./cli/capabilities.js')).capabilitiesCommand(rest);
} else {
  fail(`unknown command ${command ?? '(none)'}\n${usage}`);
}
