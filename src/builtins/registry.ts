// The builtin registry: every builtin Verdict compiles Rego against, gathered from the namespace modules, each of
// which declares its builtins beside their implementations (src/builtins/declarations.ts has the entry shape).
// From it come the compiler's table (src/compiler/builtins.ts), the host's import table (src/builtins/index.ts),
// the runtime exports compiled modules call (src/wasm/compile.ts) and `verdict capabilities`.
// test/builtins/registry.test.ts holds every entry to OPA's `opa capabilities` and to what the runtime exports.
import type { BuiltinEntry } from './declarations.js';
import { aggregatesBuiltins } from './aggregates.js';
import { arrayBuiltins } from './array.js';
import { base64Builtins } from './base64.js';
import { bitsBuiltins } from './bits.js';
import { castBuiltins } from './casts.js';
import { comparisonBuiltins } from './comparison.js';
import { cryptoBuiltins } from './crypto.js';
import { globBuiltins } from './glob.js';
import { graphBuiltins } from './graph.js';
import { graphqlBuiltins } from './graphql.js';
import { hexBuiltins } from './hex.js';
import { httpBuiltins } from './http.js';
import { jsonBuiltins } from './json.js';
import { jwtBuiltins } from './jwt.js';
import { languageBuiltins } from './language.js';
import { netBuiltins } from './net.js';
import { numbersBuiltins } from './numbers.js';
import { objectBuiltins } from './object.js';
import { opaBuiltins } from './opa.js';
import { providersBuiltins } from './providers.js';
import { regexBuiltins } from './regex.js';
import { regoBuiltins } from './rego.js';
import { semverBuiltins } from './semver.js';
import { setsBuiltins } from './sets.js';
import { sprintfBuiltins } from './sprintf.js';
import { stringsBuiltins } from './strings.js';
import { templateBuiltins } from './template.js';
import { timeBuiltins } from './time.js';
import { typesBuiltins } from './types.js';
import { unitsBuiltins } from './units.js';
import { uriBuiltins } from './uri.js';
import { urlqueryBuiltins } from './urlquery.js';
import { uuidBuiltins } from './uuid.js';
import { yamlBuiltins } from './yaml.js';

export type { BuiltinEntry, FunctionDecl, RegoType } from './declarations.js';

const namespaces: ReadonlyArray<readonly BuiltinEntry[]> = [
  languageBuiltins, aggregatesBuiltins, arrayBuiltins, base64Builtins, bitsBuiltins, castBuiltins, comparisonBuiltins,
  cryptoBuiltins, globBuiltins, graphBuiltins, graphqlBuiltins, hexBuiltins, httpBuiltins, jsonBuiltins, jwtBuiltins,
  netBuiltins, numbersBuiltins, objectBuiltins, opaBuiltins, providersBuiltins, regexBuiltins, regoBuiltins,
  semverBuiltins, setsBuiltins, sprintfBuiltins, stringsBuiltins, templateBuiltins, timeBuiltins, typesBuiltins,
  unitsBuiltins, uriBuiltins, urlqueryBuiltins, uuidBuiltins, yamlBuiltins,
];

function gather(): BuiltinEntry[] {
  const seen = new Set<string>();
  const all: BuiltinEntry[] = [];
  for (const entry of namespaces.flat()) {
    if (seen.has(entry.name)) throw new Error(`builtin ${entry.name} is declared twice`);
    if (!entry.planner && entry.runtime === undefined && entry.host === undefined) throw new Error(`builtin ${entry.name} has no implementation`);
    seen.add(entry.name);
    all.push(entry);
  }
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every builtin, by name. */
export const builtinRegistry: readonly BuiltinEntry[] = gather();

const byName: ReadonlyMap<string, BuiltinEntry> = new Map(builtinRegistry.map((b) => [b.name, b]));

/** The wasm runtime export that answers a builtin in modules we compile, if the runtime answers it. */
export function runtimeExportOf(name: string): string | undefined {
  return byName.get(name)?.runtime;
}

/** The wasm runtime export that tells when a native builtin's call goes to the host instead (see runtimeDefers). */
export function runtimeDeferralOf(name: string): string | undefined {
  return byName.get(name)?.runtimeDefers;
}
