// The types JSON schemas give input and data while CheckTypes checks a rule (OPA docs: policy-language "Schemas"):
// the input schema of `--schema FILE` for every rule and query, then the `schemas` of the rule's annotations, in
// OPA's order (subpackages scopes from the outermost package in, the package, the document, the rule), each later
// one replacing what an earlier one says of the same path or, below a path typed as an object, the one property.
// A schema written inline applies wherever annotations are used for type checking (opa check, eval, test,
// bench); a reference to a schema document (`schema.x`, `schema["a.b"]`) only when a schema set was given.
import type { Annotations, Module, Rule, Term } from '../ast.js';
import type { RegoType } from '../../builtins/declarations.js';
import { compareJson } from '../../builtins/json-value.js';
import { schemaType, SchemaTypeError } from '../json-schema-types.js';
import { AnnotationScopes } from '../annotation-scopes.js';

/**
 * JSON schemas given to the compiler (`--schema`): the input schema (a file), and schema documents by their path
 * below `schema` (a directory: `dir/a/b.json` is `schema.a.b`), keyed by the JSON of that path's names.
 */
export interface SchemaSet {
  input?: unknown;
  documents: ReadonlyMap<string, unknown>;
}

/**
 * A path below input or data (`["input", "x"]`) and the type a schema gives the value there. A number is a number
 * key (`input.a[0]`), which a string key ("0") does not name.
 */
export interface DocumentType {
  path: PathKey[];
  type: RegoType;
}

/** A schema that cannot be applied to a rule: reported as a type error at the rule. */
export interface SchemaProblem {
  rule: Rule;
  message: string;
}

/** A key of a path: a string, or a whole number written as one (`[0]`). */
type PathKey = string | number;

/**
 * A ref as annotations write it (`input.x`, `data.a["b.c"]`, `input.a[0]`, `schema.a`): its keys, and whether a
 * key is a variable (`input.a[x]`), which names no path; undefined where it is no such ref.
 */
export function parseRefText(text: string): { names: PathKey[]; varKey: boolean } | undefined {
  const head = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text);
  if (!head) return undefined;
  const names: PathKey[] = [head[0]];
  let varKey = false;
  const rest = /\.([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\]|\[(0|[1-9][0-9]*)\]|\[[A-Za-z_][A-Za-z0-9_]*\]/y;
  rest.lastIndex = head[0].length;
  while (rest.lastIndex < text.length) {
    const m = rest.exec(text);
    if (!m) return undefined;
    if (m[3] !== undefined) names.push(Number(m[3]));
    else if (m[1] === undefined && m[2] === undefined) varKey = true;
    else names.push(m[1] ?? (JSON.parse(m[2]!) as string));
  }
  return { names, varKey };
}

/** OPA's text of a ref of keys: identifiers after a dot, anything else in brackets (strings quoted). */
function refText(names: PathKey[]): string {
  return names[0] + names.slice(1).map((n) => (typeof n === 'number' ? `[${n}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) ? `.${n}` : `[${JSON.stringify(n)}]`)).join('');
}

/** Computes each rule's document types, once per schema. */
export class SchemaTyping {
  private readonly types = new WeakMap<object, RegoType | SchemaTypeError>();
  private readonly scopes: AnnotationScopes;
  private readonly inputType: RegoType | SchemaTypeError | undefined;

  constructor(modules: Module[], private readonly schemas: SchemaSet | undefined) {
    this.scopes = new AnnotationScopes(modules);
    const input = schemas?.input;
    this.inputType = input === undefined ? undefined : this.typeOfDocument(input);
  }

  /** The document types in force in a rule of module m; problems with its schemas go to `problems`. */
  forRule(m: Module, rule: Rule, problems: SchemaProblem[]): DocumentType[] {
    const types: DocumentType[] = [];
    if (this.inputType instanceof SchemaTypeError) problems.push({ rule, message: this.inputType.message });
    else if (this.inputType) types.push({ path: ['input'], type: this.inputType });
    if (m.query) return types;
    // Outermost scope first, so that what an inner one says replaces it.
    const chain = this.scopes.inEffect(rule).reverse().flat();
    for (const { annotations: a } of chain) {
      for (const [pathText, schema] of schemaEntries(a)) {
        const path = parseRefText(pathText);
        if (!path || (path.names[0] !== 'input' && path.names[0] !== 'data')) continue;
        const type = this.entryType(schema, rule, problems);
        // OPA turns the path into keys of its type environment only once the schema is read, and a variable
        // has no key to give.
        if (type && path.varKey) problems.push({ rule, message: 'error getting key from value: var requires evaluation' });
        else if (type) put(types, path.names, type);
      }
    }
    return types;
  }

  private entryType(schema: unknown, rule: Rule, problems: SchemaProblem[]): RegoType | undefined {
    let document = schema;
    if (typeof schema === 'string') {
      if (!this.schemas) return undefined;
      const ref = parseRefText(schema);
      const names = ref && !ref.varKey ? ref.names : undefined;
      document = names && names[0] === 'schema' ? this.schemas.documents.get(JSON.stringify(names.slice(1))) : undefined;
      if (document === undefined) {
        problems.push({ rule, message: `undefined schema: ${names ? refText(names) : schema}` });
        return undefined;
      }
    }
    if (typeof document !== 'object' || document === null) return undefined;
    const type = this.typeOfDocument(document);
    if (type instanceof SchemaTypeError) {
      problems.push({ rule, message: type.message });
      return undefined;
    }
    return type;
  }

  private typeOfDocument(document: unknown): RegoType | SchemaTypeError {
    if (typeof document !== 'object' || document === null) return schemaType(document);
    let type = this.types.get(document);
    if (type === undefined) {
      try {
        type = schemaType(document);
      } catch (err) {
        if (!(err instanceof SchemaTypeError)) throw err;
        type = err;
      }
      this.types.set(document, type);
    }
    return type;
  }
}

/** The type in force for a ref's head and leading constant names: the entry for its longest prefix, and where it ends. */
export function documentTypeOf(types: DocumentType[], ref: Term[]): { type: RegoType; length: number } | 'below' | undefined {
  let best: DocumentType | undefined;
  let below = false;
  for (const t of types) {
    const length = Math.min(t.path.length, ref.length);
    const matches = t.path.slice(0, length).every((n, i) => {
      const term = ref[i]!;
      if (i === 0) return term.type === 'var' && term.value === n;
      return typeof n === 'number' ? term.type === 'number' && term.value === String(n) : term.type === 'string' && term.value === n;
    });
    if (!matches) continue;
    if (t.path.length <= ref.length) {
      if (!best || t.path.length > best.path.length) best = t;
    } else below = true;
  }
  if (best) return { type: best.type, length: best.path.length };
  return below ? 'below' : undefined;
}


/** The (path, schema) pairs of an annotation's `schemas` list. */
function schemaEntries(a: Annotations): Array<[string, unknown]> {
  const entries = Array.isArray(a.raw.schemas) ? a.raw.schemas : [];
  return entries.flatMap((e: unknown) => (e && typeof e === 'object' && !Array.isArray(e) ? Object.entries(e as Record<string, unknown>) : []));
}

/**
 * Sets the type at path: below a path already typed as an object, it replaces (or adds) the one property, as
 * long as the objects on the way have the properties it goes through; otherwise it replaces whatever was said of
 * the path and below it.
 */
function put(types: DocumentType[], path: PathKey[], type: RegoType): void {
  if (path[0] === 'input') {
    putInput(types, path.slice(1), type);
    return;
  }
  const outer = types.findIndex((t) => t.path.length < path.length && t.path.every((n, i) => path[i] === n));
  // An object type has no property a number key names: such a path keeps an entry of its own.
  if (outer >= 0 && path.slice(types[outer]!.path.length).every((n) => typeof n === 'string')) {
    const replaced = withProperty(types[outer]!.type, path.slice(types[outer]!.path.length) as string[], type);
    if (replaced) types[outer] = { path: types[outer]!.path, type: replaced };
    return;
  }
  for (let i = types.length - 1; i >= 0; i--) if (path.every((n, j) => types[i]!.path[j] === n)) types.splice(i, 1);
  types.push({ path, type });
}

/**
 * Input has one type, which each annotation rewrites as OPA's checker does (override in v1/ast/check.go): a path
 * below it changes that type along the path, starting from any where no schema said anything.
 */
function putInput(types: DocumentType[], below: PathKey[], type: RegoType): void {
  const at = types.findIndex((t) => t.path.length === 1 && t.path[0] === 'input');
  const current = at >= 0 ? types[at]!.type : ANY_TYPE;
  const entry = { path: ['input'], type: below.length === 0 ? type : override(below, current, type) };
  if (at >= 0) types[at] = entry;
  else types.push(entry);
}

const ANY_TYPE: RegoType = { type: 'any' };
const ANY_KEYS = { key: ANY_TYPE, value: ANY_TYPE };

/**
 * `t` with the value at `path` set to `type`. A property on the way is changed in place; a missing one is added
 * as objects nested down the path, open as `t` is open; a type on the way that is no object is replaced by such
 * objects open to any key (`object<b: string>[any: any]` for `input.a.b` set below any).
 */
function override(path: PathKey[], t: RegoType, type: RegoType): RegoType {
  if (t.type !== 'object') return nested(path, type, ANY_KEYS);
  const [key, ...rest] = path;
  const props = [...(t.static ?? [])];
  const at = props.findIndex((p) => p.key === key);
  if (at >= 0) props[at] = { key: key!, value: rest.length === 0 ? type : override(rest, props[at]!.value, type) };
  else {
    props.push({ key: key!, value: rest.length === 0 ? type : nested(rest, type, t.dynamic) });
    props.sort((a, b) => compareJson(a.key, b.key));
  }
  return { ...t, static: props };
}

/** Objects nested down `path` to `type`, each with the dynamic properties given. */
function nested(path: PathKey[], type: RegoType, dynamic: (RegoType & { type: 'object' })['dynamic']): RegoType {
  return path.reduceRight<RegoType>((value, key) => ({ type: 'object', static: [{ key, value }], ...(dynamic ? { dynamic } : {}) }), type);
}

function withProperty(t: RegoType, path: string[], type: RegoType): RegoType | undefined {
  if (t.type !== 'object') return undefined;
  const [key, ...rest] = path;
  const props = [...(t.static ?? [])];
  const at = props.findIndex((p) => p.key === key);
  const value = rest.length === 0 ? type : at >= 0 ? withProperty(props[at]!.value, rest, type) : undefined;
  if (!value) return undefined;
  if (at >= 0) props[at] = { key: key!, value };
  else props.push({ key: key!, value });
  props.sort((a, b) => compareJson(a.key, b.key));
  return { ...t, static: props };
}
