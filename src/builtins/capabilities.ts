// Verdict's capabilities in the JSON shape of `opa capabilities` (OPA's ast.Capabilities): the builtins from the
// registry with their declarations and flags, the wasm ABI versions our engine loads, the future keywords and
// the language features our parser accepts. Also reads a capabilities document (a file, as `opa check
// --capabilities FILE` takes one) into the builtin table the compiler checks against.
import { readFileSync } from 'node:fs';
import { builtinTable, deprecatedBuiltins } from '../compiler/compile-rego.js';
import { FUTURE_KEYWORDS_V1 } from '../compiler/parser.js';
import type { BuiltinDecl } from '../compiler/planner/index.js';
import { verdictVersion } from '../version.js';
import { inGoKeyOrder } from './declarations.js';
import { builtinRegistry } from './registry.js';

export interface CapabilityBuiltin {
  name: string;
  categories?: readonly string[];
  decl: BuiltinDecl;
  infix?: string;
  deprecated?: boolean;
  nondeterministic?: boolean;
  relation?: boolean;
}

export interface Capabilities {
  builtins: CapabilityBuiltin[];
  future_keywords?: string[];
  wasm_abi_versions?: Array<{ version: number; minor_version: number }>;
  features?: string[];
  /** The hosts http.send and net.lookup_ip_addr may reach; absent: any. */
  allow_net?: string[];
}

/** What our parser accepts beyond Rego v1's base: `import rego.v1`/`rego.v2`, keywords in refs, `$"..."`. */
const FEATURES = ['keywords_in_refs', 'rego_v1', 'rego_v2', 'rego_v2_import', 'template_strings'];

/** Modules must export opa_eval (src/engine/wasm-host.ts): ABI 1.2, the one our compiler also produces. */
const WASM_ABI_VERSIONS = [{ version: 1, minor_version: 2 }];

/** The builtins Verdict compiles and runs, with everything else `opa capabilities --current` lists. */
export function verdictCapabilities(): Capabilities {
  return {
    builtins: builtinRegistry.map((b) => ({
      name: b.name,
      ...(b.categories ? { categories: b.categories } : {}),
      decl: inGoKeyOrder(b.decl),
      ...(b.infix !== undefined ? { infix: b.infix } : {}),
      ...(b.deprecated ? { deprecated: true } : {}),
      ...(b.nondeterministic ? { nondeterministic: true } : {}),
      ...(b.relation ? { relation: true } : {}),
    })),
    future_keywords: [...FUTURE_KEYWORDS_V1],
    wasm_abi_versions: WASM_ABI_VERSIONS,
    features: FEATURES,
  };
}

/** The versions whose capabilities we can print: only our own, since Verdict keeps no history of releases. */
export function capabilityVersions(): string[] {
  return [`v${verdictVersion}`];
}

export class CapabilitiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapabilitiesError';
  }
}

/** Verdict's capabilities as of a version (`--version`): the current version only, with or without the `v`. */
export function capabilitiesOfVersion(version: string): Capabilities {
  if (version.replace(/^v/, '') !== verdictVersion) {
    throw new CapabilitiesError(`no capabilities for version ${version}: Verdict knows only its own (${capabilityVersions().join(', ')})`);
  }
  return verdictCapabilities();
}

/** A capabilities document as `opa capabilities` prints it, read and checked for the shape the compiler needs. */
export function readCapabilitiesFile(path: string): Capabilities {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CapabilitiesError(`cannot read capabilities file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CapabilitiesError(`capabilities file ${path} is not JSON: ${(err as Error).message}`);
  }
  const builtins = (doc as { builtins?: unknown } | null)?.builtins;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (builtins !== undefined && !Array.isArray(builtins))) {
    throw new CapabilitiesError(`capabilities file ${path}: expected an object with a "builtins" array`);
  }
  for (const [i, b] of (builtins ?? []).entries()) {
    const entry = b as { name?: unknown; decl?: { type?: unknown } } | null;
    if (typeof entry?.name !== 'string' || entry.decl?.type !== 'function') {
      throw new CapabilitiesError(`capabilities file ${path}: builtins[${i}] needs a "name" and a "decl" of type "function"`);
    }
  }
  const allowNet = (doc as { allow_net?: unknown }).allow_net;
  if (allowNet !== undefined && allowNet !== null && (!Array.isArray(allowNet) || allowNet.some((h) => typeof h !== 'string'))) {
    throw new CapabilitiesError(`capabilities file ${path}: "allow_net" must be an array of host names`);
  }
  return { ...(doc as Capabilities), builtins: (builtins ?? []) as CapabilityBuiltin[] };
}

/**
 * `--capabilities X` of check, eval, build and test (as OPA's): X names a capabilities file, else a version. Only
 * Verdict's own version is known; OPA's past versions are not shipped, so a version name that is not a file is
 * refused with the way to get its file from OPA.
 */
export function loadCapabilities(fileOrVersion: string): Capabilities {
  try {
    return readCapabilitiesFile(fileOrVersion);
  } catch (err) {
    const unreadable = (err as Error).message.startsWith('cannot read');
    if (!unreadable || !/^v?\d+\.\d+\.\d+/.test(fileOrVersion)) throw err;
    if (fileOrVersion.replace(/^v/, '') === verdictVersion) return verdictCapabilities();
    throw new CapabilitiesError(
      `no such file, and Verdict ships no capabilities of other versions (it knows ${capabilityVersions().join(', ')}): ` +
        `write them to a file with \`opa capabilities --version ${fileOrVersion} > caps.json\` and give that file`,
    );
  }
}

/**
 * What compileRego/checkRego take for a capabilities document: the builtins it declares, by name, those it marks
 * deprecated, its language features and its future keywords (none when it lists none, as in OPA). A builtin it
 * declares that Verdict lacks type-checks, but a module calling it cannot be planned (see unsupportedBuiltins).
 */
export function compileOptionsFor(capabilities: Capabilities): { builtins: Map<string, BuiltinDecl>; deprecated: Set<string>; features: Set<string>; futureKeywords: string[] } {
  // allow_net is not the compiler's: evaluations read it (see capabilitiesOption).
  return {
    builtins: builtinTable(capabilities),
    deprecated: deprecatedBuiltins(capabilities),
    features: new Set(capabilities.features ?? []),
    futureKeywords: capabilities.future_keywords ?? [],
  };
}

/** The builtins a capabilities document declares that Verdict cannot run. */
export function unsupportedBuiltins(capabilities: Capabilities): string[] {
  const ours = new Set(builtinRegistry.map((b) => b.name));
  return capabilities.builtins.map((b) => b.name).filter((name) => !ours.has(name));
}
