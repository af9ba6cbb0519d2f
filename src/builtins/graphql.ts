// graphql.* host builtins on graphql-js. OPA answers these with gqlparser (Go), and policies see that
// library's AST as JSON; so documents parsed here are translated into gqlparser's shape (field names,
// value kinds, defaults) and pruned the way OPA prunes them (no nulls, no empty lists or objects).
// AST objects given as input are printed back to GraphQL text and parsed again.
import type {
  ConstDirectiveNode,
  DefinitionNode,
  DirectiveNode,
  DocumentNode,
  FieldDefinitionNode,
  GraphQLSchema,
  InputValueDefinitionNode,
  SelectionNode,
  TypeNode,
  ValueNode,
  VariableDefinitionNode,
} from 'graphql';
import { Kind } from 'graphql/language/kinds.js';
import { lazyRequire } from '../lazy-require.js';
import { BuiltinError, type JsonObject } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

type Gql = JsonObject;

/** The parser and validator, loaded when a graphql builtin first runs (lazy-require.ts). */
const graphql = lazyRequire<typeof import('graphql')>('graphql');

/** gqlparser's ast.ValueKind numbering. */
const VALUE_KIND = { Variable: 0, Int: 1, Float: 2, String: 3, Block: 4, Boolean: 5, Null: 6, Enum: 7, List: 8, Object: 9 } as const;

function gqlValue(v: ValueNode): Gql {
  const value = (Kind: number, Raw: string, Children: Gql[] | null = null): Gql => ({ Raw, Children, Kind, ExpectedTypeHasDefault: false });
  switch (v.kind) {
    case Kind.VARIABLE: return value(VALUE_KIND.Variable, v.name.value);
    case Kind.INT: return value(VALUE_KIND.Int, v.value);
    case Kind.FLOAT: return value(VALUE_KIND.Float, v.value);
    case Kind.STRING: return value(v.block ? VALUE_KIND.Block : VALUE_KIND.String, v.value);
    case Kind.BOOLEAN: return value(VALUE_KIND.Boolean, String(v.value));
    case Kind.NULL: return value(VALUE_KIND.Null, 'null');
    case Kind.ENUM: return value(VALUE_KIND.Enum, v.value);
    case Kind.LIST: return value(VALUE_KIND.List, '', v.values.map((x) => ({ Name: '', Value: gqlValue(x) })));
    case Kind.OBJECT: return value(VALUE_KIND.Object, '', v.fields.map((f) => ({ Name: f.name.value, Value: gqlValue(f.value) })));
  }
}

function gqlType(t: TypeNode): Gql {
  if (t.kind === Kind.NON_NULL_TYPE) return { ...gqlType(t.type), NonNull: true };
  if (t.kind === Kind.LIST_TYPE) return { NamedType: '', Elem: gqlType(t.type), NonNull: false };
  return { NamedType: t.name.value, NonNull: false };
}

function gqlDirectives(ds: readonly (DirectiveNode | ConstDirectiveNode)[] | undefined): Gql[] {
  return (ds ?? []).map((d) => ({ Name: d.name.value, Arguments: (d.arguments ?? []).map((a) => ({ Name: a.name.value, Value: gqlValue(a.value) })), Location: '' }));
}

function gqlSelections(ss: readonly SelectionNode[] | undefined): Gql[] {
  return (ss ?? []).map((s): Gql => {
    if (s.kind === Kind.FIELD) {
      return {
        Alias: s.alias?.value ?? s.name.value,
        Name: s.name.value,
        Arguments: (s.arguments ?? []).map((a) => ({ Name: a.name.value, Value: gqlValue(a.value) })),
        Directives: gqlDirectives(s.directives),
        SelectionSet: gqlSelections(s.selectionSet?.selections),
      };
    }
    if (s.kind === Kind.FRAGMENT_SPREAD) return { Name: s.name.value, Directives: gqlDirectives(s.directives) };
    return { TypeCondition: s.typeCondition?.name.value ?? '', Directives: gqlDirectives(s.directives), SelectionSet: gqlSelections(s.selectionSet.selections) };
  });
}

/**
 * OPA's query AST gives operations, fragments and variable definitions a Description (the GraphQL spec's
 * executable descriptions); our parser does not read them yet, so they are empty unless the node carries one.
 */
function descriptionOf(node: object): string {
  return (node as { description?: { value: string } }).description?.value ?? '';
}

function gqlVariables(vs: readonly VariableDefinitionNode[] | undefined): Gql[] {
  return (vs ?? []).map((v) => ({
    Description: descriptionOf(v),
    Variable: v.variable.name.value,
    Type: gqlType(v.type),
    DefaultValue: v.defaultValue ? gqlValue(v.defaultValue) : null,
    Directives: gqlDirectives(v.directives),
    Used: false,
  }));
}

function gqlArgumentDefs(args: readonly InputValueDefinitionNode[] | undefined): Gql[] {
  return (args ?? []).map((a) => ({
    Description: a.description?.value ?? '',
    Name: a.name.value,
    DefaultValue: a.defaultValue ? gqlValue(a.defaultValue) : null,
    Type: gqlType(a.type),
    Directives: gqlDirectives(a.directives),
  }));
}

function gqlFields(fields: readonly (FieldDefinitionNode | InputValueDefinitionNode)[] | undefined): Gql[] {
  return (fields ?? []).map((f) => ({
    Description: f.description?.value ?? '',
    Name: f.name.value,
    Arguments: 'arguments' in f ? gqlArgumentDefs(f.arguments) : [],
    DefaultValue: 'defaultValue' in f && f.defaultValue ? gqlValue(f.defaultValue) : null,
    Type: gqlType(f.type),
    Directives: gqlDirectives(f.directives),
  }));
}

const DEFINITION_KIND: Partial<Record<string, string>> = {
  [Kind.OBJECT_TYPE_DEFINITION]: 'OBJECT',
  [Kind.OBJECT_TYPE_EXTENSION]: 'OBJECT',
  [Kind.INTERFACE_TYPE_DEFINITION]: 'INTERFACE',
  [Kind.INTERFACE_TYPE_EXTENSION]: 'INTERFACE',
  [Kind.UNION_TYPE_DEFINITION]: 'UNION',
  [Kind.UNION_TYPE_EXTENSION]: 'UNION',
  [Kind.ENUM_TYPE_DEFINITION]: 'ENUM',
  [Kind.ENUM_TYPE_EXTENSION]: 'ENUM',
  [Kind.INPUT_OBJECT_TYPE_DEFINITION]: 'INPUT_OBJECT',
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: 'INPUT_OBJECT',
  [Kind.SCALAR_TYPE_DEFINITION]: 'SCALAR',
  [Kind.SCALAR_TYPE_EXTENSION]: 'SCALAR',
};

function gqlDefinition(d: DefinitionNode): Gql {
  const n = d as DefinitionNode & Record<string, any>;
  return {
    Kind: DEFINITION_KIND[d.kind],
    Description: n.description?.value ?? '',
    Name: n.name.value,
    Directives: gqlDirectives(n.directives),
    Interfaces: (n.interfaces ?? []).map((i: { name: { value: string } }) => i.name.value),
    Fields: gqlFields(n.fields),
    Types: (n.types ?? []).map((t: { name: { value: string } }) => t.name.value),
    EnumValues: (n.values ?? []).map((v: { description?: { value: string }; name: { value: string }; directives?: ConstDirectiveNode[] }) => ({
      Description: v.description?.value ?? '',
      Name: v.name.value,
      Directives: gqlDirectives(v.directives),
    })),
    BuiltIn: false,
  };
}

/** Drops nulls and empty lists/objects, recursively, as OPA does to gqlparser's JSON. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map(prune).filter((x) => x !== null && x !== undefined && !(typeof x === 'object' && Object.keys(x).length === 0));
  }
  if (v !== null && typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const p = prune(x);
      if (k === 'Position' || p === null || p === undefined || (typeof p === 'object' && Object.keys(p).length === 0)) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

/** gqlparser's error shape: "<message> in GraphQL string at location <line>:<column>". */
function gqlError(builtin: string, e: unknown): BuiltinError {
  if (e instanceof graphql().GraphQLError) {
    const loc = e.locations?.[0];
    const message = e.message.replace(/^Syntax Error: /, '').replace(/\.$/, '');
    return new BuiltinError(builtin, loc ? `${message} in GraphQL string at location ${loc.line}:${loc.column}` : `GraphQL parse error: ${message}`);
  }
  return e instanceof BuiltinError ? e : new BuiltinError(builtin, (e as Error).message);
}

function parseDocument(builtin: string, text: string, want: 'query' | 'schema'): DocumentNode {
  // gqlparser reads an empty query as a document without operations; graphql-js calls it a syntax error.
  if (want === 'query' && text.trim() === '') return { kind: Kind.DOCUMENT, definitions: [] };
  let doc: DocumentNode;
  try {
    doc = graphql().parse(text, { allowLegacyFragmentVariables: true });
  } catch (e) {
    throw gqlError(builtin, e);
  }
  for (const d of doc.definitions) {
    const executable = d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION;
    if (executable !== (want === 'query')) {
      const loc = d.loc?.startToken;
      throw new BuiltinError(builtin, `Unexpected definition in GraphQL string at location ${loc?.line ?? 1}:${loc?.column ?? 1}`);
    }
  }
  return doc;
}

function queryAst(doc: DocumentNode): unknown {
  const operations: Gql[] = [];
  const fragments: Gql[] = [];
  for (const d of doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      operations.push({
        Description: descriptionOf(d),
        Operation: d.operation,
        Name: d.name?.value ?? '',
        VariableDefinitions: gqlVariables(d.variableDefinitions),
        Directives: gqlDirectives(d.directives),
        SelectionSet: gqlSelections(d.selectionSet.selections),
      });
    } else if (d.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.push({
        Description: descriptionOf(d),
        Name: d.name.value,
        VariableDefinition: gqlVariables(d.variableDefinitions),
        TypeCondition: d.typeCondition.name.value,
        Directives: gqlDirectives(d.directives),
        SelectionSet: gqlSelections(d.selectionSet.selections),
      });
    }
  }
  return prune({ Operations: operations, Fragments: fragments });
}

function schemaAst(doc: DocumentNode): unknown {
  const out: Record<string, Gql[]> = { Schema: [], SchemaExtension: [], Directives: [], Definitions: [], Extensions: [] };
  for (const d of doc.definitions) {
    if (d.kind === Kind.SCHEMA_DEFINITION || d.kind === Kind.SCHEMA_EXTENSION) {
      out[d.kind === Kind.SCHEMA_DEFINITION ? 'Schema' : 'SchemaExtension']!.push({
        Description: d.kind === Kind.SCHEMA_DEFINITION ? (d.description?.value ?? '') : '',
        Directives: gqlDirectives(d.directives),
        OperationTypes: (d.operationTypes ?? []).map((o) => ({ Operation: o.operation, Type: o.type.name.value })),
      });
    } else if (d.kind === Kind.DIRECTIVE_DEFINITION) {
      out.Directives!.push({
        Description: d.description?.value ?? '',
        Name: d.name.value,
        Arguments: gqlArgumentDefs(d.arguments),
        Locations: d.locations.map((l) => l.value),
        IsRepeatable: d.repeatable,
      });
    } else if (d.kind.endsWith('Extension')) out.Extensions!.push(gqlDefinition(d));
    else out.Definitions!.push(gqlDefinition(d));
  }
  return prune(out);
}

/** Prints a gqlparser-shaped (possibly pruned) AST object back to GraphQL text. */
function printValue(v: Gql): string {
  const children = (v.Children as Gql[] | undefined) ?? [];
  switch (v.Kind ?? VALUE_KIND.Variable) {
    case VALUE_KIND.Variable: return `$${v.Raw}`;
    case VALUE_KIND.String:
    case VALUE_KIND.Block: return JSON.stringify(v.Raw ?? '');
    case VALUE_KIND.List: return `[${children.map((c) => printValue(c.Value as Gql)).join(', ')}]`;
    case VALUE_KIND.Object: return `{${children.map((c) => `${c.Name}: ${printValue(c.Value as Gql)}`).join(', ')}}`;
    default: return String(v.Raw ?? '');
  }
}

function printType(t: Gql): string {
  const base = t.NamedType ? String(t.NamedType) : `[${printType((t.Elem as Gql) ?? {})}]`;
  return t.NonNull ? `${base}!` : base;
}

const list = (v: unknown): Gql[] => (Array.isArray(v) ? (v as Gql[]) : []);
const desc = (d: unknown) => (typeof d === 'string' && d !== '' ? `${JSON.stringify(d)} ` : '');
const args = (as: unknown) => (list(as).length ? `(${list(as).map((a) => `${a.Name}: ${printValue(a.Value as Gql)}`).join(', ')})` : '');
const directives = (ds: unknown) => list(ds).map((d) => ` @${d.Name}${args(d.Arguments)}`).join('');
const argDefs = (as: unknown) =>
  list(as).length ? `(${list(as).map((a) => `${desc(a.Description)}${a.Name}: ${printType(a.Type as Gql)}${a.DefaultValue ? ` = ${printValue(a.DefaultValue as Gql)}` : ''}${directives(a.Directives)}`).join(', ')})` : '';

function printSelections(ss: unknown): string {
  if (list(ss).length === 0) return '';
  return ` { ${list(ss)
    .map((s) => {
      if ('TypeCondition' in s || (!('Name' in s) && 'SelectionSet' in s)) return `...${s.TypeCondition ? ` on ${s.TypeCondition}` : ''}${directives(s.Directives)}${printSelections(s.SelectionSet)}`;
      if (!('Alias' in s) && !('SelectionSet' in s) && !('Arguments' in s) && 'Name' in s && Object.keys(s).every((k) => k === 'Name' || k === 'Directives')) {
        return `...${s.Name}${directives(s.Directives)}`;
      }
      const alias = s.Alias && s.Alias !== s.Name ? `${s.Alias}: ` : '';
      return `${alias}${s.Name}${args(s.Arguments)}${directives(s.Directives)}${printSelections(s.SelectionSet)}`;
    })
    .join(' ')} }`;
}

function printVariables(vs: unknown): string {
  if (list(vs).length === 0) return '';
  return `(${list(vs).map((v) => `$${v.Variable}: ${printType(v.Type as Gql)}${v.DefaultValue ? ` = ${printValue(v.DefaultValue as Gql)}` : ''}${directives(v.Directives)}`).join(', ')})`;
}

function printQuery(q: Gql): string {
  const ops = list(q.Operations).map((o) => `${o.Operation ?? 'query'} ${o.Name ?? ''}${printVariables(o.VariableDefinitions)}${directives(o.Directives)}${printSelections(o.SelectionSet)}`);
  const frags = list(q.Fragments).map((f) => `fragment ${f.Name} on ${f.TypeCondition}${directives(f.Directives)}${printSelections(f.SelectionSet)}`);
  return [...ops, ...frags].join('\n');
}

function printDefinition(d: Gql, extend: boolean): string {
  const head = `${extend ? 'extend ' : desc(d.Description)}`;
  const fields = (fs: unknown, input: boolean) =>
    list(fs).length ? ` {\n${list(fs).map((f) => `  ${desc(f.Description)}${f.Name}${input ? '' : argDefs(f.Arguments)}: ${printType(f.Type as Gql)}${f.DefaultValue ? ` = ${printValue(f.DefaultValue as Gql)}` : ''}${directives(f.Directives)}`).join('\n')}\n}` : '';
  const interfaces = list(d.Interfaces).length ? ` implements ${(d.Interfaces as string[]).join(' & ')}` : '';
  switch (d.Kind) {
    case 'OBJECT': return `${head}type ${d.Name}${interfaces}${directives(d.Directives)}${fields(d.Fields, false)}`;
    case 'INTERFACE': return `${head}interface ${d.Name}${interfaces}${directives(d.Directives)}${fields(d.Fields, false)}`;
    case 'INPUT_OBJECT': return `${head}input ${d.Name}${directives(d.Directives)}${fields(d.Fields, true)}`;
    case 'UNION': return `${head}union ${d.Name}${directives(d.Directives)}${list(d.Types).length ? ` = ${(d.Types as string[]).join(' | ')}` : ''}`;
    case 'ENUM': return `${head}enum ${d.Name}${directives(d.Directives)}${list(d.EnumValues).length ? ` {\n${list(d.EnumValues).map((v) => `  ${desc(v.Description)}${v.Name}${directives(v.Directives)}`).join('\n')}\n}` : ''}`;
    default: return `${head}scalar ${d.Name}${directives(d.Directives)}`;
  }
}

function printSchema(s: Gql): string {
  const parts: string[] = [];
  for (const [key, extend] of [['Schema', false], ['SchemaExtension', true]] as const) {
    for (const d of list(s[key])) {
      parts.push(`${extend ? 'extend ' : desc(d.Description)}schema${directives(d.Directives)} { ${list(d.OperationTypes).map((o) => `${o.Operation}: ${o.Type}`).join(' ')} }`);
    }
  }
  for (const d of list(s.Directives)) {
    parts.push(`${desc(d.Description)}directive @${d.Name}${argDefs(d.Arguments)}${d.IsRepeatable ? ' repeatable' : ''} on ${(d.Locations as string[] | undefined ?? []).join(' | ')}`);
  }
  for (const d of list(s.Definitions)) parts.push(printDefinition(d, false));
  for (const d of list(s.Extensions)) parts.push(printDefinition(d, true));
  return parts.join('\n');
}

function documentOf(builtin: string, v: unknown, want: 'query' | 'schema'): DocumentNode {
  if (typeof v === 'string') return parseDocument(builtin, v, want);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return parseDocument(builtin, want === 'query' ? printQuery(v as Gql) : printSchema(v as Gql), want);
  }
  throw new BuiltinError(builtin, `operand must be one of {string, object}`);
}

const DEFINITION_OF_EXTENSION: Partial<Record<string, Kind>> = {
  [Kind.OBJECT_TYPE_EXTENSION]: Kind.OBJECT_TYPE_DEFINITION,
  [Kind.INTERFACE_TYPE_EXTENSION]: Kind.INTERFACE_TYPE_DEFINITION,
  [Kind.UNION_TYPE_EXTENSION]: Kind.UNION_TYPE_DEFINITION,
  [Kind.ENUM_TYPE_EXTENSION]: Kind.ENUM_TYPE_DEFINITION,
  [Kind.INPUT_OBJECT_TYPE_EXTENSION]: Kind.INPUT_OBJECT_TYPE_DEFINITION,
  [Kind.SCALAR_TYPE_EXTENSION]: Kind.SCALAR_TYPE_DEFINITION,
};

/**
 * gqlparser lets a schema extend a type it never defines (federation schemas do): the first extension
 * of such a type becomes its definition.
 */
function promoteOrphanExtensions(doc: DocumentNode): DocumentNode {
  const defined = new Set(doc.definitions.flatMap((d) => (d.kind in DEFINITION_KIND && !d.kind.endsWith('Extension') ? [(d as { name: { value: string } }).name.value] : [])));
  const definitions = doc.definitions.map((d) => {
    const kind = DEFINITION_OF_EXTENSION[d.kind];
    const name = (d as { name?: { value: string } }).name?.value;
    if (!kind || name === undefined || defined.has(name)) return d;
    defined.add(name);
    return { ...d, kind } as DefinitionNode;
  });
  return { ...doc, definitions };
}

/** Builds a schema as gqlparser validates one: SDL rules and type-system checks, but no required Query type. */
function buildSchema(builtin: string, doc: DocumentNode): GraphQLSchema {
  let schema: GraphQLSchema;
  try {
    schema = graphql().buildASTSchema(promoteOrphanExtensions(doc));
  } catch (e) {
    throw gqlError(builtin, e);
  }
  const problems = graphql().validateSchema(schema).filter((e) => !/^Query root type must be provided/.test(e.message));
  if (problems.length > 0) throw gqlError(builtin, problems[0]);
  return schema;
}

function validateQuery(builtin: string, schema: GraphQLSchema, doc: DocumentNode): void {
  if (!schema.getQueryType()) {
    // graphql-js refuses to validate against a schema without a Query type; gqlparser only fails the
    // operations that need a missing root type.
    const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && !schema.getRootType(d.operation));
    if (op && op.kind === Kind.OPERATION_DEFINITION) throw new BuiltinError(builtin, `Schema does not support operation type "${op.operation}"`);
    if (doc.definitions.length === 0) return;
  }
  const errors = graphql().validate(schema, doc);
  if (errors.length > 0) throw gqlError(builtin, errors[0]);
}

function parseBoth(builtin: string, query: unknown, schema: unknown): [unknown, unknown] {
  const q = documentOf(builtin, query, 'query');
  const s = documentOf(builtin, schema, 'schema');
  validateQuery(builtin, buildSchema(builtin, s), q);
  return [queryAst(q), schemaAst(s)];
}

function succeeds(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

export const graphqlBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'graphql.is_valid',
    decl: fn([arg('query', t.anyOf(t.string, t.objectOf(t.any, t.any))), arg('schema', t.anyOf(t.string, t.objectOf(t.any, t.any)))], arg('output', t.boolean)),
    host: (q: unknown, s: unknown) =>
      succeeds(() => validateQuery('graphql.is_valid', buildSchema('graphql.is_valid', documentOf('graphql.is_valid', s, 'schema')), documentOf('graphql.is_valid', q, 'query'))),
  },
  {
    name: 'graphql.parse',
    decl: fn([arg('query', t.anyOf(t.string, t.objectOf(t.any, t.any))), arg('schema', t.anyOf(t.string, t.objectOf(t.any, t.any)))], arg('output', t.tuple(t.objectOf(t.any, t.any), t.objectOf(t.any, t.any)))),
    host: (q: unknown, s: unknown) => parseBoth('graphql.parse', q, s),
  },
  {
    name: 'graphql.parse_and_verify',
    decl: fn([arg('query', t.anyOf(t.string, t.objectOf(t.any, t.any))), arg('schema', t.anyOf(t.string, t.objectOf(t.any, t.any)))], arg('output', t.tuple(t.boolean, t.objectOf(t.any, t.any), t.objectOf(t.any, t.any)))),
    host: (q: unknown, s: unknown) => {
      try {
        return [true, ...parseBoth('graphql.parse_and_verify', q, s)];
      } catch {
        return [false, {}, {}];
      }
    },
  },
  {
    name: 'graphql.parse_query',
    decl: fn([arg('query', t.string)], arg('output', t.objectOf(t.any, t.any))),
    host: (q: unknown) => queryAst(parseDocument('graphql.parse_query', typeof q === 'string' ? q : String(q), 'query')),
  },
  {
    name: 'graphql.parse_schema',
    decl: fn([arg('schema', t.string)], arg('output', t.objectOf(t.any, t.any))),
    host: (s: unknown) => schemaAst(parseDocument('graphql.parse_schema', typeof s === 'string' ? s : String(s), 'schema')),
  },
  {
    name: 'graphql.schema_is_valid',
    decl: fn([arg('schema', t.anyOf(t.string, t.objectOf(t.any, t.any)))], arg('output', t.boolean)),
    host: (s: unknown) => succeeds(() => buildSchema('graphql.schema_is_valid', documentOf('graphql.schema_is_valid', s, 'schema'))),
  },
];
