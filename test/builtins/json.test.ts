import { agreesWithOpa } from './differential.js';

const schema = { type: 'object', properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['id'] };

agreesWithOpa('json.* and graphql.* host builtins', [
  { fn: 'json.patch', args: [{ a: { b: [1, 2] } }, [{ op: 'add', path: '/a/b/1', value: 9 }, { op: 'add', path: '/a/b/-', value: 3 }]] },
  { fn: 'json.patch', args: [{ a: 1, b: 2 }, [{ op: 'remove', path: '/a' }, { op: 'replace', path: '/b', value: { c: 1 } }]] },
  { fn: 'json.patch', args: [{ a: { x: 1 } }, [{ op: 'move', from: '/a/x', path: '/y' }, { op: 'copy', from: '/y', path: '/z' }]] },
  { fn: 'json.patch', args: [{ 'a/b': { '~c': 1 } }, [{ op: 'test', path: '/a~1b/~0c', value: 1 }]] },
  { fn: 'json.patch', args: [{ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]], fails: true },
  { fn: 'json.patch', args: [{ a: 1 }, [{ op: 'remove', path: '/nope' }]], fails: true },
  { fn: 'json.patch', args: [{ a: 1 }, [{ op: 'add', path: ['b', 'c'], value: 1 }]], fails: true },
  { fn: 'json.marshal_with_options', args: [{ b: [1, { c: '<x>' }], a: null }, { pretty: true }] },
  { fn: 'json.marshal_with_options', args: [{ b: 1, a: [] }, { indent: '  ', prefix: '> ' }] },
  { fn: 'json.marshal_with_options', args: [[1, 'two'], { pretty: false, indent: '\t' }] },
  { fn: 'json.marshal_with_options', args: [{ a: 1 }, { colour: true }], fails: true },
  { fn: 'json.verify_schema', args: [schema] },
  { fn: 'json.verify_schema', args: [JSON.stringify(schema)] },
  { fn: 'json.verify_schema', args: [{ type: 'unknown_type' }] },
  { fn: 'json.match_schema', args: [{ id: 5, tags: ['a'] }, schema] },
  { fn: 'json.match_schema', args: [{ id: 'five' }, schema] },
  { fn: 'json.match_schema', args: [{ tags: [] }, schema] },
  { fn: 'graphql.schema_is_valid', args: ['type Query { a: Int }'] },
  { fn: 'graphql.schema_is_valid', args: ['type Query { a: Missing }'] },
  { fn: 'graphql.is_valid', args: ['{ a }', 'type Query { a: Int }'] },
  { fn: 'graphql.is_valid', args: ['{ b }', 'type Query { a: Int }'] },
  { fn: 'graphql.parse_query', args: ['query Q($v: [Int!] = [1]) { alias: f(x: {y: $v, z: "s"}) @skip(if: false) { ...Frag ... on T { g } } } fragment Frag on T { h }'] },
  { fn: 'graphql.parse_schema', args: ['"desc" type T implements I @d(a: 1) { f(x: Int = 2): [String!]! } interface I { f: Int } union U = T | T2 enum E { A B } input In { x: Int = 1 } directive @d(a: Int) on OBJECT scalar S schema { query: T }'] },
  { fn: 'graphql.parse', args: ['{ a }', 'type Query { a: Int }'] },
  { fn: 'graphql.parse_and_verify', args: ['{ b }', 'type Query { a: Int }'] },
  { fn: 'graphql.parse_query', args: ['{'], fails: true },
]);
