// `verdict fmt` against `opa fmt` on every module of OPA's v1 and v0 conformance cases. Prints equal/total per
// suite and the first differences. Fails when a module differs that scripts/fmt/differing-modules.txt does not
// list (a regression), and when a listed module now matches (an improvement: remove it from the list).
//   npm run fmt:differential -- [--show N] [--full N] [--filter TEXT]
// --show lists the N most frequent first differences, --full prints N differing modules whole.
import { compareWithOpa, corpusModules, firstDifference, formatWithOpa, knownDifferences, opaBinary, type FmtOutcome } from './fmt/corpus.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}


function main(): void {
  const filter = option('--filter');
  const show = Number(option('--show') ?? '5');
  const cases = corpusModules().filter((c) => !filter || c.name.includes(filter));
  formatWithOpa(cases, opaBinary());
  const outcomes = cases.map(compareWithOpa);
  for (const version of ['v1', 'v0']) {
    const mine = outcomes.filter((o) => o.c.version === version);
    console.log(`${version}: ${mine.filter((o) => o.equal).length} / ${mine.length} equal to opa fmt`);
  }
  const differing = outcomes.filter((o) => !o.equal);
  const causes = new Map<string, FmtOutcome[]>();
  for (const o of differing) {
    const key = firstDifference(o);
    causes.set(key, [...(causes.get(key) ?? []), o]);
  }
  for (const [key, list] of [...causes].sort((a, b) => b[1].length - a[1].length).slice(0, show)) {
    console.log(`${String(list.length).padStart(5)}  ${key}   e.g. ${list[0].c.name}`);
  }
  for (const o of differing.slice(0, Number(option('--full') ?? '0'))) {
    console.log(`\n--- ${o.c.name}\n${o.c.source}\n--- opa${o.c.error ? ` error: ${o.c.error}` : `:\n${o.c.expected}`}--- verdict${o.error ? ` error: ${o.error}` : `:\n${o.actual}`}`);
  }
  const equal = outcomes.length - differing.length;
  console.log(`total: ${equal} / ${outcomes.length}`);
  const known = knownDifferences();
  const regressions = differing.filter((o) => !known.has(o.c.name)).map((o) => o.c.name);
  const fixed = outcomes.filter((o) => o.equal && known.has(o.c.name)).map((o) => o.c.name);
  if (regressions.length > 0) console.error(`fmt differential: differ and are not listed in scripts/fmt/differing-modules.txt:\n  ${regressions.join('\n  ')}`);
  if (fixed.length > 0) console.error(`fmt differential: now equal to opa fmt, remove from scripts/fmt/differing-modules.txt:\n  ${fixed.join('\n  ')}`);
  if (regressions.length > 0 || fixed.length > 0) process.exit(1);
}

main();
