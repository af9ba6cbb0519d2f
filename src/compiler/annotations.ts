// `# METADATA` comment blocks: YAML after a line `# METADATA`, attached to the package or rule that follows
// (OPA docs: policy-language "Annotations"). The YAML is kept as written for rego.metadata.*.
import { lazyRequire } from '../lazy-require.js';
import type { AnnotationScope, Annotations, Location, Module } from './ast.js';
import { regoError, type RegoError } from './errors.js';
import type { LexComment } from './lexer.js';
import type { Statement } from './parse-module.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

const SCOPES: AnnotationScope[] = ['rule', 'document', 'package', 'subpackages'];

interface Block { lines: string[]; loc: Location; lastRow: number; /** Where each line's comment starts. */ offsets: number[] }

/**
 * The `# METADATA` blocks, as OPA's parser finds them: a comment at column 1 whose text starts with METADATA,
 * and the comments on the lines right after it, each at column 1 too. A comment further right (indented, or
 * after code) neither starts nor continues a block.
 */
function metadataBlocks(file: string, comments: LexComment[]): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  for (const c of comments) {
    const starts = c.col === 1 && c.text.trim().startsWith('METADATA');
    if (current && c.row === current.lastRow + 1 && c.col === 1 && !starts) {
      current.lines.push(c.text);
      current.offsets.push(c.offset);
      current.lastRow = c.row;
      continue;
    }
    current = undefined;
    if (starts) {
      current = { lines: [], loc: { file, row: c.row, col: c.col, offset: c.offset, end: c.offset }, lastRow: c.row, offsets: [] };
      blocks.push(current);
    }
  }
  return blocks;
}

/** Parses the blocks and attaches them; returns OPA-style errors for bad YAML, scopes or placement. */
export function attachAnnotations(module: Module, statements: Statement[], comments: LexComment[], source: string): RegoError[] {
  const errors: RegoError[] = [];
  for (const block of metadataBlocks(module.file, comments)) {
    const fail = (message: string) => errors.push(regoError('rego_parse_error', block.loc, message));
    if (block.lines.every((l) => l.trim() === '')) {
      // OPA shows this one with its source line.
      errors.push(regoError('rego_parse_error', block.loc, 'expected METADATA block, found whitespace', source));
      continue;
    }
    const indent = Math.min(...block.lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
    const text = block.lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
    let raw: unknown;
    try {
      raw = yaml().parse(text) ?? {};
    } catch (e) {
      fail(`yaml: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fail('yaml: annotations must be a map');
      continue;
    }
    const fields = raw as Record<string, unknown>;
    const target = statements.find((s) => stmtRow(s) > block.lastRow);
    const isPackage = !target || target.kind === 'package';
    const scope = (fields.scope ?? (isPackage ? 'package' : 'rule')) as AnnotationScope;
    if (!SCOPES.includes(scope)) {
      fail(`invalid annotation scope '${String(fields.scope)}'. Use one of 'rule', 'document', 'package', or 'subpackages'`);
      continue;
    }
    const onRule = scope === 'rule' || scope === 'document';
    if (target && onRule !== (target.kind === 'rule')) {
      const have = target.kind === 'package' ? 'package' : target.kind === 'rule' ? 'rule' : 'import';
      fail(`annotation scope '${scope}' must be applied to ${onRule ? 'rule' : 'package'} (have ${have})`);
      continue;
    }
    const schemaError = schemasError(fields.schemas, text);
    if (schemaError) {
      // OPA shows this one with its source line: the block's, or the comment OPA's decoder names (the one after
      // the line its first complaint is on, counting from the first line after `# METADATA`, or the last one).
      const at = schemaError.line === undefined ? block.loc : commentLoc(block, Math.min(schemaError.line, block.lines.length - 1));
      errors.push(regoError('rego_parse_error', at, schemaError.message, source));
      continue;
    }
    const a: Annotations = { scope, raw: fields, loc: block.loc };
    if (typeof fields.title === 'string') a.title = fields.title;
    if (typeof fields.description === 'string') a.description = fields.description;
    if (typeof fields.entrypoint === 'boolean') a.entrypoint = fields.entrypoint;
    if (Array.isArray(fields.organizations)) a.organizations = fields.organizations.map(String);
    if (fields.custom && typeof fields.custom === 'object') a.custom = fields.custom as Record<string, unknown>;
    module.annotations.push(a);
    if (target?.kind === 'rule') (target.rule.annotations ??= []).push(a);
  }
  return errors;
}

/**
 * OPA's parse error for a `schemas` list it cannot use, and the YAML line it names (1 for the block's first line)
 * where there is one. A value of another shape than a list of maps is refused by OPA's YAML decoder, which lists
 * each value it could not decode, as Go's decoder words it; then an entry that is null or has a path that is no
 * ref (`x`, `1`) is an "invalid document reference", and a schema that is neither a map nor a reference below
 * `schema` is refused.
 */
function schemasError(schemas: unknown, text: string): { message: string; line?: number } | undefined {
  if (schemas === undefined || schemas === null) return undefined;
  const undecodable = Array.isArray(schemas) ? schemas.some((e) => e !== null && (typeof e !== 'object' || Array.isArray(e))) : true;
  if (undecodable) return decoderError(text);
  for (const entry of schemas as Array<Record<string, unknown> | null>) {
    if (entry === null) return { message: 'invalid document reference' };
    for (const [path, schema] of Object.entries(entry)) {
      if (!DOCUMENT_REF.test(path)) return { message: 'invalid document reference' };
      if (typeof schema === 'string') {
        if (!/^schema(?:$|[.[])/.test(schema.trim())) return { message: 'invalid schema reference' };
      } else if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
        return { message: `invalid schema declaration for path ${JSON.stringify(path)}` };
      }
    }
  }
  return undefined;
}

/** A ref as a `schemas` path must be one: `input`, `data`, or a name and one or more `.name` or `[key]` after it. */
const DOCUMENT_REF = /^(?:input|data|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]+\])+)$/;

/**
 * Go's YAML decoder's error for a `schemas` value that is not a list of maps: "yaml: unmarshal errors:" and a
 * line for each value it could not decode, `line N: cannot unmarshal !!TAG `VALUE` into TYPE` (a scalar's text
 * cut to 7 characters and "..." past 10; no text for a list or map).
 */
function decoderError(text: string): { message: string; line: number } {
  const lib = yaml();
  const lines = new lib.LineCounter();
  const doc = lib.parseDocument(text, { lineCounter: lines });
  const found: Array<{ line: number; text: string }> = [];
  const refuse = (node: unknown, into: string) => {
    const at = lines.linePos((node as { range?: [number] }).range?.[0] ?? 0).line;
    found.push({ line: at, text: `line ${at}: cannot unmarshal ${goTag(node)} into ${into}` });
  };
  const list = doc.get('schemas', true);
  if (lib.isSeq(list)) {
    for (const item of list.items) if (!lib.isMap(item) && !(lib.isScalar(item) && item.value === null)) refuse(item, 'map[string]interface {}');
  } else refuse(list, '[]map[string]interface {}');
  return { message: ['yaml: unmarshal errors:', ...found.map((f) => `  ${f.text}`)].join('\n'), line: found[0]?.line ?? 1 };
}

/** A YAML node as Go's decoder names it in an error: its tag, and for a scalar its text. */
function goTag(node: unknown): string {
  const lib = yaml();
  if (lib.isSeq(node)) return '!!seq';
  if (lib.isMap(node)) return '!!map';
  const scalar = node as { value: unknown; source?: string };
  const written = String(scalar.source ?? scalar.value);
  const tag = typeof scalar.value === 'boolean' ? '!!bool' : typeof scalar.value === 'number' ? (/^[-+]?[0-9]+$/.test(written) ? '!!int' : '!!float') : '!!str';
  return `${tag} \`${written.length > 10 ? `${written.slice(0, 7)}...` : written}\``;
}

/** The location of the block's comment at index i (0 for the line after `# METADATA`). */
function commentLoc(block: Block, i: number): Location {
  const offset = block.offsets[i]!;
  return { file: block.loc.file, row: block.loc.row + 1 + i, col: 1, offset, end: offset };
}

function stmtRow(s: Statement): number {
  switch (s.kind) {
    case 'package': return s.pkg.loc.row;
    case 'import': return s.imp.loc.row;
    case 'rule': return s.rule.loc.row;
    case 'body': return s.loc.row;
  }
}
