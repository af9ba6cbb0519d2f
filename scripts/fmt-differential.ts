// `verdict fmt` against `opa fmt` on every module of OPA's v1 and v0 conformance cases. Prints equal/total per
// suite and the first differences; fails when the equal count falls below --floor.
//   npm run fmt:differential -- [--floor N] [--show N] [--filter TEXT]
import { formatSource } from '../src/compiler/format/format.js';
import { corpusModules, formatWithOpa, opaBinary, type FmtCase } from './fmt/corpus.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export interface FmtOutcome {
  c: FmtCase;
  actual?: string;
  error?: string;
  equal: boolean;
}

export function compare(c: FmtCase): FmtOutcome {
  const r = formatSource('x.rego', c.source, c.version);
  const error = r.errors.length > 0 ? r.errors.map((e) => e.message).join('; ') : undefined;
  const equal = c.expected === undefined ? r.text === undefined : r.text === c.expected;
  return { c, actual: r.text, error, equal };
}

/** The first line where the outputs part, as `opa | verdict`. */
function firstDifference(o: FmtOutcome): string {
  if (o.c.expected === undefined) return 'opa refused the module, verdict did not';
  if (o.actual === undefined) return `verdict refused: ${o.error}`;
  const a = o.c.expected.split('\n');
  const b = o.actual.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  return `${JSON.stringify(a[i])} | ${JSON.stringify(b[i])}`;
}

function main(): void {
  const filter = option('--filter');
  const show = Number(option('--show') ?? '5');
  const floor = Number(option('--floor') ?? '0');
  const cases = corpusModules().filter((c) => !filter || c.name.includes(filter));
  formatWithOpa(cases, opaBinary());
  const outcomes = cases.map(compare);
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
  if (equal < floor) {
    console.error(`fmt differential: ${equal} equal is below the floor of ${floor}`);
    process.exit(1);
  }
}

main();
