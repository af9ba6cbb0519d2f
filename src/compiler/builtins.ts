// The compiler's builtin table, generated from the builtin registry (src/builtins/registry.ts) in the shape
// `opa capabilities` prints, as compileRego/planRego take it.
import { builtinRegistry } from '../builtins/registry.js';
import type { BuiltinDecl } from './planner/index.js';

/** Declarations by name. */
export const verdictBuiltins: ReadonlyMap<string, BuiltinDecl> = new Map(builtinRegistry.map(({ name, decl }): [string, BuiltinDecl] => [name, decl]));

/** The builtins Rego v1 modules may not call. */
export const verdictDeprecated: ReadonlySet<string> = new Set(builtinRegistry.filter((b) => b.deprecated).map((b) => b.name));
