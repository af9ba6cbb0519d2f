// The Rego type OPA's type checker gives a value described by a JSON Schema (OPA docs: policy-language "Schemas";
// behaviour pinned against `opa check` in test/compiler/stages/schema-types.test.ts). Only the keywords that shape
// a value change its type: `type`, `properties`, `items`, `anyOf`, `allOf` and local `$ref`s. OPA gives
// `properties` a closed object type whatever `additionalProperties` says, `null` no type (any), and ignores the
// validation keywords (`required`, `enum`, `const`, `minimum`, `pattern`, `oneOf`, `not`, `patternProperties`, ...).
// Where OPA's result depends on details Verdict does not reproduce, the schema is refused naming the keyword: a
// `type` list, `anyOf`/`allOf` beside other shaping keywords, and `$ref`s to other documents, which OPA fetches.
import type { ObjectProperty, RegoType } from '../builtins/declarations.js';
import { compareJson } from '../builtins/json-value.js';
import { ANY, isAny, union } from './types.js';

/** A schema OPA cannot type, or one Verdict refuses: its message is OPA's, or names what is refused. */
export class SchemaTypeError extends Error {}

const OPEN_OBJECT: RegoType = { type: 'object', dynamic: { key: ANY, value: ANY } };
const SCALARS: Record<string, RegoType> = {
  string: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'number' },
  boolean: { type: 'boolean' },
  null: ANY,
};
/** Keywords that give a schema its shape; anyOf and allOf are supported only without the others beside them. */
const SHAPING = ['type', 'properties', 'items', 'anyOf', 'allOf'] as const;

type Schema = Record<string, unknown>;

/** The type of a value that `schema` describes. Throws SchemaTypeError. */
export function schemaType(schema: unknown): RegoType {
  return new SchemaReader(schema).typeOf(schema);
}

class SchemaReader {
  /** The $refs being followed, so that a recursive schema is refused rather than followed forever. */
  private readonly following = new Set<string>();

  constructor(private readonly root: unknown) {}

  typeOf(schema: unknown): RegoType {
    if (!isSchema(schema)) return ANY;
    if (schema.$ref !== undefined) return this.reference(schema.$ref);
    const shaping = SHAPING.filter((k) => schema[k] !== undefined);
    for (const combinator of ['anyOf', 'allOf'] as const) {
      if (schema[combinator] === undefined) continue;
      if (shaping.length > 1) throw new SchemaTypeError(`${combinator} beside ${shaping.filter((k) => k !== combinator).join(', ')} in one schema is not supported by Verdict`);
      const members = schema[combinator];
      if (!Array.isArray(members) || members.length === 0) throw new SchemaTypeError(`${combinator} must be a non-empty array`);
      return combinator === 'anyOf' ? union(members.map((m) => this.typeOf(m))) : this.merged(members);
    }
    const kind = schema.type;
    if (Array.isArray(kind)) throw new SchemaTypeError(`a type list (type: ${JSON.stringify(kind)}) is not supported by Verdict`);
    if (kind === undefined) {
      if (hasProperties(schema)) return this.objectType(schema);
      return schema.items !== undefined ? this.arrayType(schema) : ANY;
    }
    if (kind === 'object') return hasProperties(schema) ? this.objectType(schema) : OPEN_OBJECT;
    if (kind === 'array') return this.arrayType(schema);
    const scalar = typeof kind === 'string' ? SCALARS[kind] : undefined;
    if (!scalar) throw new SchemaTypeError(`unknown schema type ${JSON.stringify(kind)}`);
    return scalar;
  }

  /** `properties` give a closed object: OPA adds no dynamic part for additionalProperties. */
  private objectType(schema: Schema): RegoType {
    const props: ObjectProperty[] = Object.entries(schema.properties as Schema).map(([key, value]) => ({ key, value: this.typeOf(value) }));
    props.sort((a, b) => compareJson(a.key, b.key));
    return { type: 'object', static: props };
  }

  private arrayType(schema: Schema): RegoType {
    const items = schema.items;
    if (Array.isArray(items)) return items.length > 0 ? { type: 'array', static: items.map((i) => this.typeOf(i)) } : { type: 'array', dynamic: ANY };
    return { type: 'array', dynamic: items === undefined ? ANY : this.typeOf(items) };
  }

  /** A local reference (`#/definitions/x`, `#/$defs/x`) is the schema it points to in the same document. */
  private reference(ref: unknown): RegoType {
    if (typeof ref !== 'string' || !ref.startsWith('#')) throw new SchemaTypeError(`$ref ${JSON.stringify(ref)}: references to other schema documents are not supported by Verdict`);
    if (this.following.has(ref)) throw new SchemaTypeError(`$ref ${ref}: recursive schemas are not supported by Verdict`);
    let target: unknown = this.root;
    const pointer = ref.slice(1);
    for (const part of pointer === '' ? [] : pointer.replace(/^\//, '').split('/')) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isSchema(target) || !(key in target)) throw new SchemaTypeError(`unable to compile the schema: Object has no key '${key}'`);
      target = target[key];
    }
    this.following.add(ref);
    try {
      return this.typeOf(target);
    } finally {
      this.following.delete(ref);
    }
  }

  /**
   * allOf: the members' types merged as OPA merges them. Their schema types must be the same (an object with
   * an object, a string with a string); objects get every member's properties (the first member's type of a
   * property shared, the first member's openness), arrays the one item type they agree on.
   */
  private merged(members: unknown[]): RegoType {
    let kind = schemaKind(members[0]);
    let merged = this.typeOf(members[0]);
    for (const m of members.slice(1)) {
      const next = schemaKind(m);
      if (next !== kind) throw new SchemaTypeError(`type checking: unable to merge these schemas: type mismatch: ${kind} and ${next}`);
      kind = next;
      merged = mergeTypes(merged, this.typeOf(m));
    }
    return merged;
  }
}

/** The schema type name OPA compares when merging allOf members ("Undefined" where none is written). */
function schemaKind(schema: unknown): string {
  if (!isSchema(schema) || schema.type === undefined) return 'Undefined';
  return typeof schema.type === 'string' ? schema.type : JSON.stringify(schema.type);
}

function mergeTypes(a: RegoType, b: RegoType): RegoType {
  if (a.type === 'object' && b.type === 'object') {
    const props = [...(a.static ?? [])];
    for (const p of b.static ?? []) if (!props.some((q) => compareJson(q.key, p.key) === 0)) props.push(p);
    props.sort((x, y) => compareJson(x.key, y.key));
    return { type: 'object', ...(props.length > 0 ? { static: props } : {}), ...(a.dynamic ? { dynamic: a.dynamic } : {}) };
  }
  if (a.type === 'array' && b.type === 'array') {
    const items = (t: typeof a) => (t.static || (t.dynamic && !isAny(t.dynamic)) ? t : undefined);
    const [x, y] = [items(a), items(b)];
    if (x && y && JSON.stringify(x) !== JSON.stringify(y)) throw new SchemaTypeError('type checking: unable to merge these schemas');
    return x ?? y ?? a;
  }
  return a;
}

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasProperties(schema: Schema): boolean {
  return isSchema(schema.properties) && Object.keys(schema.properties).length > 0;
}
