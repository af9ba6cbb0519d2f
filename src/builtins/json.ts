// json.*: filter, remove, marshal, unmarshal and is_valid are answered by the wasm runtime
// (src/wasm/runtime/builtins/paths.ts, collections.ts); the rest by the host:
// json.patch (RFC 6902 over JSON values, with OPA's path forms), json.marshal_with_options (Go's
// Marshal/MarshalIndent output), json.verify_schema and json.match_schema (ajv, with errors reported
// in the shape OPA's gojsonschema produces).
import type { Ajv as AjvInstance, ErrorObject, ValidateFunction } from 'ajv';
import { lazyRequire } from '../lazy-require.js';
import { BuiltinError, arr, obj, type JsonObject } from './args.js';
import { goJsonMarshal } from './go-json.js';
import { jsonEqual, jsonTypeName } from './json-value.js';
import { isRegoSet, regoSet, type RegoSet } from './rego-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

type Segment = string | number;

function parsePath(name: string, path: unknown): Segment[] {
  if (typeof path === 'string') {
    if (path === '') return [];
    return path
      .replace(/^\/+/, '')
      .split('/')
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  if (Array.isArray(path)) return path as Segment[];
  throw new BuiltinError(name, `operand 2 must be one of {set, array} containing string paths or array of path segments but got ${jsonTypeName(path)}`);
}

function arrayIndex(name: string, seg: Segment, len: number, forInsert: boolean): number {
  if (forInsert && seg === '-') return len;
  const i = typeof seg === 'number' ? seg : /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : NaN;
  if (!Number.isInteger(i) || i < 0 || i > (forInsert ? len : len - 1)) throw new BuiltinError(name, `invalid array index ${JSON.stringify(seg)}`);
  return i;
}

/** A deep copy that keeps sets sets. */
function clone<T>(v: T): T {
  if (isRegoSet(v)) return regoSet(v.map(clone)) as T;
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
  return v;
}

/** In a set a path segment names the element equal to it. */
function setIndex(name: string, set: RegoSet, seg: Segment, path: Segment[]): number {
  const i = set.findIndex((x) => jsonEqual(x, seg));
  if (i < 0) throw new BuiltinError(name, `path ${JSON.stringify(path)} does not exist`);
  return i;
}

/** The container holding the last segment, walking from root. */
function parentOf(name: string, root: unknown, path: Segment[]): unknown {
  let node = root;
  for (const seg of path.slice(0, -1)) {
    if (isRegoSet(node)) node = node[setIndex(name, node, seg, path)];
    else if (Array.isArray(node)) node = node[arrayIndex(name, seg, node.length, false)];
    else if (node !== null && typeof node === 'object' && String(seg) in (node as JsonObject)) node = (node as JsonObject)[String(seg)];
    else throw new BuiltinError(name, `path ${JSON.stringify(path)} does not exist`);
  }
  if (node === null || typeof node !== 'object') throw new BuiltinError(name, `path ${JSON.stringify(path)} does not exist`);
  return node;
}

function get(name: string, root: unknown, path: Segment[]): unknown {
  if (path.length === 0) return root;
  const parent = parentOf(name, root, path);
  const last = path[path.length - 1]!;
  if (isRegoSet(parent)) return parent[setIndex(name, parent, last, path)];
  if (Array.isArray(parent)) return parent[arrayIndex(name, last, parent.length, false)];
  const obj = parent as JsonObject;
  if (!(String(last) in obj)) throw new BuiltinError(name, `path ${JSON.stringify(path)} does not exist`);
  return obj[String(last)];
}

/** Applies one change and returns the (possibly new) root. */
function add(name: string, root: unknown, path: Segment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(name, root, path);
  const last = path[path.length - 1]!;
  if (isRegoSet(parent)) {
    // A set element is its own key: the path must end in the value added.
    if (!jsonEqual(last, value)) throw new BuiltinError(name, `set key ${JSON.stringify(last)} does not match the value added`);
    if (!parent.some((x) => jsonEqual(x, value))) parent.push(value);
  } else if (Array.isArray(parent)) parent.splice(arrayIndex(name, last, parent.length, true), 0, value);
  else (parent as JsonObject)[String(last)] = value;
  return root;
}

function remove(name: string, root: unknown, path: Segment[]): unknown {
  if (path.length === 0) return undefined;
  const parent = parentOf(name, root, path);
  const last = path[path.length - 1]!;
  if (isRegoSet(parent)) parent.splice(setIndex(name, parent, last, path), 1);
  else if (Array.isArray(parent)) parent.splice(arrayIndex(name, last, parent.length, false), 1);
  else {
    const o = parent as JsonObject;
    if (!(String(last) in o)) throw new BuiltinError(name, `path ${JSON.stringify(path)} does not exist`);
    delete o[String(last)];
  }
  return root;
}

function patch(doc: unknown, ops: unknown): unknown {
  const name = 'json.patch';
  let root = clone(doc);
  for (const op of arr(name, 2, ops)) {
    if (op === null || typeof op !== 'object' || Array.isArray(op)) {
      throw new BuiltinError(name, 'must be an array of JSON-Patch objects, but at least one element is not an object');
    }
    const o = op as JsonObject;
    if (!('path' in o)) throw new BuiltinError(name, "missing required attribute 'path'");
    if (!('op' in o)) throw new BuiltinError(name, "missing required attribute 'op'");
    if (typeof o.op !== 'string') throw new BuiltinError(name, `attribute 'op' must be a string but found: ${jsonTypeName(o.op)}`);
    const path = parsePath(name, o.path);
    const value = () => {
      if (!('value' in o)) throw new BuiltinError(name, "missing required attribute 'value'");
      return clone(o.value);
    };
    const from = () => {
      if (!('from' in o)) throw new BuiltinError(name, "missing required attribute 'from'");
      return parsePath(name, o.from);
    };
    switch (o.op) {
      case 'add':
        root = add(name, root, path, value());
        break;
      case 'remove':
        root = remove(name, root, path);
        break;
      case 'replace':
        root = add(name, remove(name, root, path), path, value());
        break;
      case 'move': {
        const f = from();
        const chunk = clone(get(name, root, f));
        root = add(name, remove(name, root, f), path, chunk);
        break;
      }
      case 'copy': {
        const chunk = clone(get(name, root, from()));
        root = add(name, root, path, chunk);
        break;
      }
      case 'test':
        if (!jsonEqual(get(name, root, path), value())) throw new BuiltinError(name, 'value from EditTree != patch value');
        break;
      default:
        throw new BuiltinError(name, `unrecognized op: '${o.op}'`);
    }
  }
  return root;
}

function marshalWithOptions(v: unknown, options: unknown): string {
  const name = 'json.marshal_with_options';
  let indent = '\t';
  let prefix = '';
  let implicitPretty = false;
  let explicitPretty: boolean | undefined;
  for (const [k, opt] of Object.entries(obj(name, 2, options))) {
    if (k === 'prefix' || k === 'indent') {
      if (typeof opt !== 'string') throw new BuiltinError(name, `operand 2 key ${k} failed cast to string`);
      if (k === 'prefix') prefix = opt;
      else indent = opt;
      implicitPretty = true;
    } else if (k === 'pretty') {
      if (typeof opt !== 'boolean') throw new BuiltinError(name, `operand 2 key ${k} failed cast to bool`);
      explicitPretty = opt;
    } else throw new BuiltinError(name, `operand 2 object contained unknown key ${k}`);
  }
  // MarshalIndent does not prefix the first line; OPA adds it.
  return explicitPretty ?? implicitPretty ? prefix + goJsonMarshal(v, indent, prefix) : goJsonMarshal(v);
}

const ajvModule = lazyRequire<typeof import('ajv')>('ajv');
let validator: AjvInstance | undefined;
/** The schema compiler, made when json.match_schema or json.verify_schema first runs (lazy-require.ts). */
const ajv = () => (validator ??= new (ajvModule().Ajv)({ strict: false, allErrors: true, validateSchema: true, validateFormats: false }));
const compiledSchemas = new Map<string, ValidateFunction>();

/** A schema given as a JSON string or as a value. */
function schemaValue(name: string, v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      throw new BuiltinError(name, 'invalid JSON string');
    }
  }
  if (v !== null && typeof v === 'object') return v;
  throw new BuiltinError(name, 'wrong type, expected string or object');
}

function compileSchema(name: string, schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = compiledSchemas.get(key);
  if (!fn) {
    try {
      fn = ajv().compile(schema as object);
    } catch (e) {
      throw new BuiltinError(name, (e as Error).message);
    }
    if (compiledSchemas.size > 200) compiledSchemas.clear();
    compiledSchemas.set(key, fn);
  }
  return fn;
}

const PRIMITIVE_TYPES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

/** The first "type" naming no JSON Schema primitive type, which gojsonschema reports by itself. */
function unknownPrimitiveType(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  if (Array.isArray(schema)) {
    for (const s of schema) {
      const found = unknownPrimitiveType(s);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(schema as JsonObject)) {
    const names = k === 'type' ? (typeof v === 'string' ? [v] : Array.isArray(v) ? v : []) : [];
    const bad = names.find((n) => typeof n === 'string' && !PRIMITIVE_TYPES.includes(n));
    if (bad !== undefined) return bad as string;
    const found = unknownPrimitiveType(v);
    if (found !== undefined) return found;
  }
  return undefined;
}

function verifySchema(schema: unknown): unknown[] {
  try {
    const value = schemaValue('json.verify_schema', schema);
    const bad = unknownPrimitiveType(value);
    if (bad !== undefined) {
      return [false, `jsonschema: has a primitive type that is NOT VALID -- given: /${bad}/ Expected valid values are:[${PRIMITIVE_TYPES.join(' ')}]`];
    }
    compileSchema('json.verify_schema', value);
    return [true, null];
  } catch (e) {
    return [false, `jsonschema: ${(e as Error).message.replace(/^json\.verify_schema: /, '')}`];
  }
}

const SCHEMA_TYPES: Record<string, string> = { object: 'object', array: 'array', string: 'string', boolean: 'boolean', null: 'null' };

/** gojsonschema's type name for a value (integers are "integer"). */
function schemaTypeOf(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return SCHEMA_TYPES[jsonTypeName(v)] ?? jsonTypeName(v);
}

/** One ajv error in gojsonschema's words: {error, type, field, desc}. */
function describe(e: ErrorObject, doc: unknown): JsonObject {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  let field = segments.length === 0 ? '(Root)' : segments.join('.');
  let type = e.keyword;
  let desc = e.message ?? e.keyword;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      let value: unknown = doc;
      for (const s of segments) value = (value as JsonObject)?.[s];
      type = 'invalid_type';
      desc = `Invalid type. Expected: ${String(params.type).replaceAll(',', ', ')}, given: ${schemaTypeOf(value)}`;
      break;
    }
    case 'required':
      type = 'required';
      desc = `${String(params.missingProperty)} is required`;
      break;
    case 'enum':
      type = 'enum';
      desc = `${field} must be one of the following: ${(params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
      break;
    case 'additionalProperties':
      type = 'additional_property_not_allowed';
      desc = `Additional property ${String(params.additionalProperty)} is not allowed`;
      break;
    case 'minimum':
      type = 'number_gte';
      desc = `Must be greater than or equal to ${String(params.limit)}`;
      break;
    case 'maximum':
      type = 'number_lte';
      desc = `Must be less than or equal to ${String(params.limit)}`;
      break;
    case 'minLength':
      type = 'string_gte';
      desc = `String length must be greater than or equal to ${String(params.limit)}`;
      break;
    case 'maxLength':
      type = 'string_lte';
      desc = `String length must be less than or equal to ${String(params.limit)}`;
      break;
  }
  if (field === '') field = '(Root)';
  return { error: `${field}: ${desc}`, type, field, desc };
}

function matchSchema(document: unknown, schema: unknown): unknown[] {
  const name = 'json.match_schema';
  const doc = schemaValue(name, document);
  const validate = compileSchema(name, schemaValue(name, schema));
  if (validate(doc)) return [true, []];
  return [false, (validate.errors ?? []).map((e) => describe(e, doc))];
}

export const jsonBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'json.filter',
    decl: fn([arg('object', t.objectOf(t.any, t.any)), arg('paths', t.anyOf(t.arrayOf(t.anyOf(t.string, t.arrayOf(t.any))), t.setOf(t.anyOf(t.string, t.arrayOf(t.any)))))], arg('filtered', t.objectOf(t.any, t.any))),
    categories: ['object'],
    runtime: 'b_json_filter',
  },
  {
    name: 'json.is_valid',
    decl: fn([arg('x', t.string)], arg('result', t.boolean)),
    categories: ['encoding'],
    runtime: 'b_json_is_valid',
  },
  {
    name: 'json.marshal',
    decl: fn([arg('x', t.any)], arg('y', t.string)),
    categories: ['encoding'],
    runtime: 'b_json_marshal',
  },
  {
    name: 'json.marshal_with_options',
    decl: fn([arg('x', t.any), arg('opts', t.object([['indent', t.string], ['prefix', t.string], ['pretty', t.boolean]], [t.string, t.any]))], arg('y', t.string)),
    categories: ['encoding'],
    host: marshalWithOptions,
  },
  {
    name: 'json.match_schema',
    decl: fn([arg('document', t.anyOf(t.string, t.objectOf(t.any, t.any))), arg('schema', t.anyOf(t.string, t.objectOf(t.any, t.any)))], arg('output', t.tuple(t.boolean, t.arrayOf(t.object([['desc', t.string], ['error', t.string], ['field', t.string], ['type', t.string]]))))),
    nondeterministic: true,
    categories: ['object'],
    host: matchSchema,
  },
  {
    name: 'json.patch',
    decl: fn([arg('target', t.any), arg('patches', t.arrayOf(t.object([['op', t.string], ['path', t.any]], [t.any, t.any])))], arg('output', t.any)),
    categories: ['object'],
    host: patch,
  },
  {
    name: 'json.remove',
    decl: fn([arg('object', t.objectOf(t.any, t.any)), arg('paths', t.anyOf(t.arrayOf(t.anyOf(t.string, t.arrayOf(t.any))), t.setOf(t.anyOf(t.string, t.arrayOf(t.any)))))], arg('output', t.objectOf(t.any, t.any))),
    categories: ['object'],
    runtime: 'b_json_remove',
  },
  {
    name: 'json.unmarshal',
    decl: fn([arg('x', t.string)], arg('y', t.any)),
    categories: ['encoding'],
    runtime: 'b_json_unmarshal',
  },
  {
    name: 'json.verify_schema',
    decl: fn([arg('schema', t.anyOf(t.string, t.objectOf(t.any, t.any)))], arg('output', t.tuple(t.boolean, t.anyOf(t.null, t.string)))),
    nondeterministic: true,
    categories: ['object'],
    host: verifySchema,
  },
];
