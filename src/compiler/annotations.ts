// `# METADATA` comment blocks: YAML after a line `# METADATA`, attached to the package or rule that follows
// (OPA docs: policy-language "Annotations"). The YAML is kept as written for rego.metadata.*.
import { lazyRequire } from '../lazy-require.js';
import type { AnnotationScope, Annotations, Location, Module } from './ast.js';
import { regoError, type RegoError } from './errors.js';
import type { LexComment } from './lexer.js';
import type { Statement } from './parse-module.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');

const SCOPES: AnnotationScope[] = ['rule', 'document', 'package', 'subpackages'];

interface Block { lines: string[]; loc: Location; lastRow: number }

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
      current.lastRow = c.row;
      continue;
    }
    current = undefined;
    if (starts) {
      current = { lines: [], loc: { file, row: c.row, col: c.col, offset: c.offset, end: c.offset }, lastRow: c.row };
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
    const schemaError = schemasError(fields.schemas);
    if (schemaError) {
      // OPA shows this one with its source line.
      errors.push(regoError('rego_parse_error', block.loc, schemaError, source));
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
 * OPA's parse error for a `schemas` entry that is neither a schema (a map) nor a reference to a schema document
 * (a ref below `schema`, written as a string). A list of anything but `path: schema` maps OPA's YAML decoder
 * refuses, naming the line; Verdict refuses it too, in its own words.
 */
function schemasError(schemas: unknown): string | undefined {
  if (schemas === undefined || schemas === null) return undefined;
  const malformed = 'invalid schemas: expected a list of maps from a path (input.x, data.x) to a schema or a schema reference';
  if (!Array.isArray(schemas)) return malformed;
  for (const entry of schemas) {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return malformed;
    for (const [path, schema] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof schema === 'string') {
        if (!/^schema(?:$|[.[])/.test(schema.trim())) return 'invalid schema reference';
      } else if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
        return `invalid schema declaration for path ${JSON.stringify(path)}`;
      }
    }
  }
  return undefined;
}

function stmtRow(s: Statement): number {
  switch (s.kind) {
    case 'package': return s.pkg.loc.row;
    case 'import': return s.imp.loc.row;
    case 'rule': return s.rule.loc.row;
    case 'body': return s.loc.row;
  }
}
