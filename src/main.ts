#!/usr/bin/env node
// The verdict command line, modelled on opa's (usage.ts lists the commands). Each subcommand's module is imported
// only when it runs, so `verdict eval`, `verdict test` and `verdict build` do not load the server (express, the
// decision log, PIP adapters) and start quickly.
import { fail, usage } from './cli/usage.js';

type Command = (args: string[]) => Promise<number>;

/** The commands that take their arguments and answer an exit code, each loaded on first use. */
const commands: Record<string, () => Promise<Command>> = {
  replay: async () => (await import('./replay/cli.js')).runReplayCommand,
  eval: async () => (await import('./cli/eval-command.js')).evalCommand,
  test: async () => (await import('./cli/test.js')).testCommand,
  check: async () => (await import('./cli/check.js')).checkCommand,
  fmt: async () => (await import('./cli/fmt.js')).fmtCommand,
  parse: async () => (await import('./cli/parse.js')).parseCommand,
  build: async () => (await import('./cli/build.js')).buildCommand,
  deps: async () => (await import('./cli/deps.js')).depsCommand,
  inspect: async () => (await import('./cli/inspect.js')).inspectCommand,
  capabilities: async () => (await import('./cli/capabilities.js')).capabilitiesCommand,
  bench: async () => (await import('./cli/bench.js')).benchCommand,
  exec: async () => (await import('./cli/exec.js')).execCommand,
};

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
} else if (command !== undefined && Object.hasOwn(commands, command)) {
  process.exitCode = await (await commands[command]())(rest);
} else {
  fail(`unknown command ${command ?? '(none)'}\n${usage}`);
}
