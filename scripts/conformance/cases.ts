// Loads OPA's published conformance cases (YAML) straight from the pinned OPA Go module folder.
// The cases are read at test time and never copied into this repository.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse } from 'yaml';

/** One case as written in OPA's v1/test/cases/testdata YAML files (fields we act on). */
export interface ConformanceCase {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  /** Input written as a Rego term (may hold sets), instead of `input`. */
  input_term?: string;
  want_result?: Array<Record<string, unknown>>;
  want_defined?: boolean;
  want_error_code?: string;
  want_error?: string;
  sort_bindings?: boolean;
  strict_error?: boolean;
  env?: Record<string, string>;
}

/** A case together with where it came from. */
export interface LocatedCase {
  /** Test directory relative to the suite root, e.g. "withkeyword". */
  dir: string;
  /** YAML file relative to the suite root. */
  file: string;
  index: number;
  case: ConformanceCase;
}

function yamlFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...yamlFiles(full));
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) found.push(full);
  }
  return found;
}

/**
 * Reads every case under `suiteRoot` (e.g. <opa module>/v1/test/cases/testdata/v1).
 * OPA reads these files with its YAML 1.2 loader (go-yaml v3 semantics), so we parse as 1.2 too: a key such as
 * `on` stays the string "on" (indexing/constant-in-ref.yaml depends on it).
 */
export function loadCases(suiteRoot: string): LocatedCase[] {
  const located: LocatedCase[] = [];
  for (const path of yamlFiles(suiteRoot)) {
    const file = relative(suiteRoot, path);
    const doc = parse(readFileSync(path, 'utf8'), { version: '1.2' }) as
      | { cases?: ConformanceCase[] }
      | null;
    const dir = file.split(sep)[0] ?? file;
    (doc?.cases ?? []).forEach((c, index) => located.push({ dir, file, index, case: c }));
  }
  return located;
}
