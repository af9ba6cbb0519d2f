// The registry of host builtins: the builtins a Rego wasm module imports from its host because they are
// not answered inside the module. Each namespace lives in its own file; this file only assembles them.
// Values cross the boundary as Rego value text (src/engine/wasm-host.ts): sets arrive as RegoSet arrays,
// non-string object keys as their JSON text.
import type { HostBuiltin, HostBuiltinTable } from './args.js';
import { KEEPS_NUMBER_TEXT } from './rego-value.js';
import { noteBuiltinFailure } from './failures.js';
import { httpBuiltins } from './http.js';
import { arrayBuiltins } from './array.js';
import { castBuiltins } from './casts.js';
import { cryptoBuiltins } from './crypto.js';
import { globBuiltins } from './glob.js';
import { graphBuiltins } from './graph.js';
import { graphqlBuiltins } from './graphql.js';
import { hexBuiltins } from './hex.js';
import { jsonBuiltins } from './json.js';
import { jwtBuiltins } from './jwt.js';
import { netBuiltins } from './net.js';
import { numbersBuiltins } from './numbers.js';
import { objectBuiltins } from './object.js';
import { opaBuiltins } from './opa.js';
import { providersBuiltins } from './providers.js';
import { regexBuiltins } from './regex.js';
import { regoBuiltins } from './rego.js';
import { semverBuiltins } from './semver.js';
import { sprintfBuiltins } from './sprintf.js';
import { stringsBuiltins } from './strings.js';
import { templateBuiltins } from './template.js';
import { timeBuiltins } from './time.js';
import { unitsBuiltins } from './units.js';
import { uriBuiltins } from './uri.js';
import { urlqueryBuiltins } from './urlquery.js';
import { uuidBuiltins } from './uuid.js';
import { yamlBuiltins } from './yaml.js';

export type { HostBuiltin } from './args.js';

/**
 * OPA's wasm target is non-strict: a builtin error makes the call undefined instead of failing the
 * evaluation (the SDK would abort the whole evaluation on a throw). The error is noted for strict callers.
 */
function undefinedOnError(name: string, fn: HostBuiltin): HostBuiltin {
  const wrapped = (...args: unknown[]) => {
    try {
      return fn(...args);
    } catch (err) {
      noteBuiltinFailure(name, err);
      return undefined;
    }
  };
  // The host reads this mark off the function it calls.
  return Object.assign(wrapped, { [KEEPS_NUMBER_TEXT]: (fn as { [KEEPS_NUMBER_TEXT]?: boolean })[KEEPS_NUMBER_TEXT] });
}

function nonStrict(table: HostBuiltinTable): HostBuiltinTable {
  return Object.fromEntries(Object.entries(table).map(([name, fn]) => [name, undefinedOnError(name, fn)]));
}

export const hostBuiltins: Record<string, HostBuiltin> = {
  ...nonStrict({
    ...arrayBuiltins,
    ...castBuiltins,
    ...cryptoBuiltins,
    ...globBuiltins,
    ...graphBuiltins,
    ...graphqlBuiltins,
    ...hexBuiltins,
    ...jsonBuiltins,
    ...jwtBuiltins,
    ...netBuiltins,
    ...numbersBuiltins,
    ...objectBuiltins,
    ...opaBuiltins,
    ...providersBuiltins,
    ...regexBuiltins,
    ...regoBuiltins,
    ...semverBuiltins,
    ...sprintfBuiltins,
    ...stringsBuiltins,
    ...templateBuiltins,
    ...timeBuiltins,
    ...unitsBuiltins,
    ...uriBuiltins,
    ...urlqueryBuiltins,
    ...uuidBuiltins,
    ...yamlBuiltins,
  }),
  // Not wrapped: http.send aborts evaluations on purpose (NeedsResponse, see http-send/session.ts) and answers
  // undefined itself where OPA's call is undefined.
  ...httpBuiltins,
};
