// Schema annotations (`schemas:` in a # METADATA block) whose schema is written inline (`- input.x: {type:
// string}`) give OPA's type checker the types of input and data below the paths they name. Verdict's checker does
// not apply JSON schemas, so a policy with one is refused, naming it, rather than compiled with its schema
// ignored. A reference to a schema document (`- input: schema.x`) takes effect in OPA only with `--schema`,
// which Verdict refuses, so that one is accepted, as OPA accepts it without `--schema`.
import type { CompileContext, Stage } from './context.js';

/** The paths (`input.x`) a block's `schemas` list gives an inline schema for. */
function inlineSchemaPaths(raw: Record<string, unknown>): string[] {
  const entries = Array.isArray(raw.schemas) ? raw.schemas : [];
  return entries.flatMap((e: unknown) =>
    e && typeof e === 'object' && !Array.isArray(e) ? Object.entries(e as Record<string, unknown>).filter(([, s]) => typeof s !== 'string').map(([path]) => path) : [],
  );
}

export const checkSchemaAnnotations: Stage = {
  name: 'CheckSchemaAnnotations',
  run(ctx: CompileContext) {
    for (const m of ctx.modules) {
      for (const a of m.annotations) {
        for (const path of inlineSchemaPaths(a.raw)) {
          const refused = `schema annotation for ${path}: Verdict does not type-check policies against JSON schemas`;
          if (!ctx.error('rego_type_error', a.loc, refused)) return;
        }
      }
    }
  },
};
