// Packages only some inputs need (graphql, ajv and re2js for their builtins, yaml for YAML files and METADATA
// blocks) are loaded the first time they are needed, not when the modules using them are imported: every command
// that compiles or evaluates Rego imports those modules, and loading the packages up front made up much of
// `verdict eval`'s start-up time. Their callers are synchronous, so a package is loaded with require (each ships a
// CommonJS build).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that loads `name` on first use. */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
