// rego.metadata.rule() and rego.metadata.chain(): the annotations in effect for the rule being planned are
// known at compile time, so the calls become constants, shaped as `opa eval` prints them (authors and related
// resources as objects, schemas with a path, the scope always present).
import type { Annotations, Location, Module, Rule, Term } from '../ast.js';
import type { RuleSet } from './tree.js';

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** The package-wide annotations (scope package or subpackages), by package path under data. */
export class Metadata {
  private readonly packages = new Map<string, Annotations[]>();
  private readonly packageOf = new Map<Rule, string[]>();

  constructor(modules: Module[]) {
    for (const m of modules) {
      const pkg = packagePath(m);
      for (const r of m.rules) this.packageOf.set(r, pkg);
      const key = pkg.join('.');
      for (const a of m.annotations) {
        if (a.scope !== 'package' && a.scope !== 'subpackages') continue;
        const list = this.packages.get(key) ?? [];
        list.push(a);
        this.packages.set(key, list);
      }
    }
  }

  /** rego.metadata.rule(): the rule-scope annotations of this definition, {} when it has none. */
  rule(rule: Rule): Value {
    const own = rule.annotations?.find((a) => a.scope === 'rule');
    return own ? annotationValue(own) : {};
  }

  /**
   * rego.metadata.chain(): the rule itself (with its rule-scope annotations, if any), then the document-scope
   * annotations of any definition of the same rule, then going up from the rule's package: its package-scope
   * annotations and the subpackages-scope ones of it and every package above.
   */
  chain(set: RuleSet, rule: Rule): Value {
    const pkg = this.packageOf.get(rule) ?? [];
    const entry = (path: string[], a?: Annotations): Value => (a ? { annotations: annotationValue(a), path } : { path });
    const own = rule.annotations?.find((a) => a.scope === 'rule');
    const chain: Value[] = [entry(set.path, own)];
    for (const r of set.rules) {
      for (const a of r.annotations ?? []) if (a.scope === 'document') chain.push(entry(set.path, a));
    }
    for (let n = pkg.length; n >= 0; n--) {
      const path = pkg.slice(0, n);
      const here = this.packages.get(path.join('.')) ?? [];
      for (const a of here) if (a.scope === 'package' && n === pkg.length) chain.push(entry(path, a));
      for (const a of here) if (a.scope === 'subpackages') chain.push(entry(path, a));
    }
    return chain;
  }
}

function packagePath(m: Module): string[] {
  return m.package.path.slice(1).map((t) => (t.type === 'string' ? t.value : ''));
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
