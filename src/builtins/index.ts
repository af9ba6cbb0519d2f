// Host builtins handed to every wasm policy as opa-wasm custom builtins (JSON values in and out).
// The builtins work (issue 3) fills this registry, one file per namespace.
export const hostBuiltins: Record<string, (...args: any[]) => unknown> = {};
