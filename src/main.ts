#!/usr/bin/env node
// The verdict command line: `verdict run`, and more subcommands as they land.
const [command] = process.argv.slice(2);
if (command === 'version' || command === '--version') {
  console.log('verdict 0.1.0');
} else {
  console.error(`verdict: unknown command ${command ?? '(none)'}; try: verdict run [BUNDLE_PATH ...]`);
  process.exit(2);
}
