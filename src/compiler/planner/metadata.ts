// rego.metadata.rule() and rego.metadata.chain(): the annotations in effect for the rule being planned are
// known at compile time, so the calls become constants, shaped as `opa eval` prints them (authors and related
// resources as objects, schemas with a path, the scope always present).
import type { Annotations, Location, Module, Rule, Term } from '../ast.js';
import { AnnotationScopes } from '../annotation-scopes.js';

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** The annotations in effect for each of the modules' rules. */
export class Metadata {
  private readonly scopes: AnnotationScopes;
  /** The rules ad-hoc queries are compiled to (Module.query): no rule of the policy is active in them. */
  private readonly queryRules: ReadonlySet<Rule>;

  constructor(modules: Module[]) {
    this.scopes = new AnnotationScopes(modules);
    this.queryRules = new Set(modules.filter((m) => m.query).flatMap((m) => m.rules));
  }

  /**
   * `rego.metadata.rule()` or `rego.metadata.chain()` in this definition of the document at `path` (its set's
   * path; by default the one AnnotationScopes finds); undefined in a query.
   */
  call(builtin: string, rule: Rule, path: string[] = this.scopes.documentOf(rule)): Value | undefined {
    if (this.queryRules.has(rule)) return undefined;
    return builtin === 'rego.metadata.rule' ? this.rule(rule) : this.chain(path, rule);
  }

  /** rego.metadata.rule(): the rule-scope annotations of this definition, {} when it has none. */
  private rule(rule: Rule): Value {
    const own = rule.annotations?.find((a) => a.scope === 'rule');
    return own ? annotationValue(own) : {};
  }

  /**
   * rego.metadata.chain(): the rule itself (with its first rule-scope annotations, if any), then the other scopes
   * in effect from the rule's own out (annotation-scopes.ts).
   */
  private chain(path: string[], rule: Rule): Value {
    const [own, ...outer] = this.scopes.inEffect(rule);
    const first = own?.[0]?.annotations;
    const chain: Value[] = [first ? { annotations: annotationValue(first), path } : { path }];
    for (const { annotations, path } of outer.flat()) chain.push({ annotations: annotationValue(annotations), path });
    return chain;
  }
}

/** An annotation block as OPA returns it. */
export function annotationValue(a: Annotations): Value {
  const raw = a.raw;
  const out: { [key: string]: Value } = { scope: a.scope };
  for (const key of ['title', 'description', 'organizations', 'custom'] as const) {
    if (raw[key] !== undefined && raw[key] !== null) out[key] = plain(raw[key]);
  }
  if (raw.entrypoint === true) out.entrypoint = true;
  if (Array.isArray(raw.authors)) out.authors = raw.authors.map(author);
  if (Array.isArray(raw.related_resources)) out.related_resources = raw.related_resources.map(resource);
  if (Array.isArray(raw.schemas)) out.schemas = raw.schemas.flatMap(schemas);
  return out;
}

/** `Jane Doe <jane@example.com>` or {name, email}. */
function author(v: unknown): Value {
  if (typeof v !== 'string') return plain(v);
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(v.trim());
  if (!m) return { name: v.trim() };
  return m[1] ? { email: m[2]!, name: m[1] } : { email: m[2]! };
}

/** A URL, or {ref, description}. */
function resource(v: unknown): Value {
  return typeof v === 'string' ? { ref: v } : plain(v);
}

/** `- input.x: {type: ...}` (a definition) or `- input: schema.y` (a reference to a schema document). */
function schemas(v: unknown): Value[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>).map(([path, s]): Value => {
    const p = path.split('.');
    return typeof s === 'string' ? { path: p, schema: s.split('.') } : { definition: plain(s), path: p };
  });
}

function plain(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return String(v);
}

/** A constant value as a term, for planning. */
export function valueTerm(v: Value, loc: Location): Term {
  if (v === null) return { type: 'null', loc };
  if (typeof v === 'boolean') return { type: 'boolean', value: v, loc };
  if (typeof v === 'number') return { type: 'number', value: String(v), loc };
  if (typeof v === 'string') return { type: 'string', value: v, loc };
  if (Array.isArray(v)) return { type: 'array', value: v.map((x) => valueTerm(x, loc)), loc };
  return { type: 'object', value: Object.entries(v).map(([k, x]) => [valueTerm(k, loc), valueTerm(x, loc)]), loc };
}
