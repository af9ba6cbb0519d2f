// `opa fmt`'s layout of a module: package, sorted imports, rules separated by blank lines (one-line rules
// written on adjacent rows stay together), tab indentation, comments where they were written.
import type { Body, Import, Module, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { parseModule } from '../parse-module.js';
import type { RegoError } from '../errors.js';
import { CommentQueue } from './comments.js';
import { TermPrinter } from './terms.js';

export interface FormatResult {
  text?: string;
  errors: RegoError[];
}

export interface FormatOptions {
  /** Leave out the imports that only bring v1 syntax to v0 (`rego.v1`, `future.keywords…`), as `--drop-v0-imports`. */
  dropV0Imports?: boolean;
  /** Keywords may follow a ref's dot (`input.in`), the keywords_in_refs capability; else they are bracketed. */
  keywordsInRefs?: boolean;
}

/** Parses and formats one source file; parse errors come back as OPA's parser reports them. */
export function formatSource(file: string, source: string, regoVersion: 'v0' | 'v1', options: FormatOptions = {}): FormatResult {
  const parsed = parseModule(file, source, { regoVersion });
  if (!parsed.module) return { errors: parsed.errors };
  if (parsed.errors.length > 0) return { errors: parsed.errors };
  return { text: formatModule(parsed.module, source, options), errors: [] };
}

/**
 * The imports printed. `rego.v2` brings everything `rego.v1` and `future.keywords` would, so those go. With
 * dropV0Imports, v1 needs neither `rego.v1` nor `future.keywords`; v0 keeps `rego.v1` (its v1 syntax still needs
 * it) and drops `future.keywords` only where `rego.v1` already brings the keywords.
 */
function printedImports(module: Module, options: FormatOptions): Import[] {
  const keywordsImport = (imp: Import) => /^future\.keywords(\.|$)/.test(importKey({ ...imp, alias: undefined }));
  const v1Import = (imp: Import) => importKey({ ...imp, alias: undefined }) === 'rego.v1';
  if (imports(module, 'rego.v2') || (options.dropV0Imports && module.regoVersion === 'v1')) {
    return module.imports.filter((imp) => !keywordsImport(imp) && !v1Import(imp));
  }
  if (!options.dropV0Imports) return module.imports;
  return imports(module, 'rego.v1') ? module.imports.filter((imp) => !keywordsImport(imp)) : module.imports;
}

export function formatModule(module: Module, source: string, options: FormatOptions = {}): string {
  const comments = new CommentQueue(module.comments);
  const printer = new TermPrinter(source, comments, module.regoVersion === 'v1', options.keywordsInRefs ?? true);
  const keywords = usesKeywords(module);
  const style = { objectKeys: objectKeyHeads(module), contains: module.regoVersion === 'v1' || imports(module, 'future.keywords', 'future.keywords.contains', 'rego.v1', 'rego.v2') };
  const lines: string[] = [];
  const push = (...ls: string[]) => lines.push(...ls);

  push(...comments.before(module.package.loc.offset));
  push(withTrailing(`package ${printer.ref([{ ...module.package.path[1], type: 'var', value: stringValue(module.package.path[1]) } as Term, ...module.package.path.slice(2)], 0)}`, printer, module.package.loc.end));

  for (const group of importGroups(printedImports(module, options))) {
    push('', ...comments.block(group[0].loc.offset, group[0].loc.row));
    for (const imp of group.sort(compareImports)) push(withTrailing(importText(imp, printer), printer, imp.loc.end));
  }

  let prev: Rule | undefined;
  const oneLiner = (r: Rule) => keywords && groupable(r, source) && !(setRule(r) && !style.contains);
  for (const rule of module.rules) {
    if (!(prev && oneLiner(prev) && oneLiner(rule) && rule.loc.row === prev.loc.row + 1)) push('');
    push(...comments.block(rule.loc.offset, rule.loc.row));
    push(ruleText(rule, printer, keywords, style));
    prev = rule;
  }
  const rest = comments.rest();
  if (rest.length > 0) push('', ...rest);
  return lines.join('\n') + '\n';
}

/** Imports written on adjacent rows form a group; groups are printed apart, each sorted. */
function importGroups(imports: Import[]): Import[][] {
  const groups: Import[][] = [];
  let lastRow = -Infinity;
  for (const imp of imports) {
    if (imp.loc.row > lastRow + 1) groups.push([]);
    groups[groups.length - 1].push(imp);
    lastRow = imp.loc.row;
  }
  return groups;
}

function withTrailing(line: string, printer: TermPrinter, end: number): string {
  const trailing = printer.comments.trailing(printer.rowOf(end));
  return trailing ? `${line} ${trailing}` : line;
}

function stringValue(t: Term): string {
  return t.type === 'string' ? t.value : '';
}

function importText(imp: Import, printer: TermPrinter): string {
  return `import ${printer.ref(imp.path.value, 0)}${imp.alias ? ` as ${imp.alias}` : ''}`;
}

function compareImports(a: Import, b: Import): number {
  const ka = importKey(a);
  const kb = importKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function importKey(imp: Import): string {
  return imp.path.value.map((t) => (t.type === 'var' || t.type === 'string' ? t.value : '')).join('.') + (imp.alias ? ` ${imp.alias}` : '');
}

/** Whether `if` and `contains` are written: always in v1, in v0 once `future.keywords` (or rego.v1) brings them. */
function usesKeywords(module: Module): boolean {
  return module.regoVersion === 'v1' || imports(module, 'future.keywords', 'future.keywords.if', 'rego.v1', 'rego.v2');
}

function imports(module: Module, ...paths: string[]): boolean {
  return module.imports.some((imp) => paths.includes(importKey({ ...imp, alias: undefined })));
}

/**
 * Rules that may share a group with an adjacent one (only where `if` is in use): no `else`, at most one
 * expression; a default rule only when written on one line.
 */
function groupable(rule: Rule, source: string): boolean {
  if (rule.else || (rule.generatedBody !== true && rule.body.length > 1)) return false;
  return !rule.default || !source.slice(rule.loc.offset, rule.loc.end).includes('\n');
}

/**
 * `p.a := 1` is written `p["a"] := 1` (a key of object p), unless some rule of the module has a longer head
 * reference (`p.b.c := 1`): then every head keeps its dots.
 */
function objectKeyHeads(module: Module): boolean {
  return !module.rules.some((r) => r.head.ref.length > 2);
}

/** A body of just `true` says nothing: the rule is printed as if it had none (unless an `else` follows it). */
function trivialBody(body: Body): boolean {
  if (body.length !== 1) return false;
  const e = body[0];
  return !e.negated && !e.with && isTerm(e.terms) && e.terms.type === 'boolean' && e.terms.value === true;
}

/**
 * A head whose value is `true` over a body of its own says no more than the body does: `p := true if x` is
 * written `p if x`. Not so where the last part of the head is a variable (`p[x] := true`): there the value is
 * what the rule maps that key to.
 */
function saysTrue(head: Rule['head']): boolean {
  const last = head.ref[head.ref.length - 1];
  return head.value?.type === 'boolean' && head.value.value && head.key === undefined && !(head.ref.length > 1 && last.type === 'var');
}

interface HeadStyle {
  objectKeys: boolean;
  /**
   * Whether `contains` is available (v1, or v0 importing it). Where it is not, a v0 set rule keeps `p[x] { … }`
   * even where `if` is imported: `p[x] if` would read as a rule for the key x.
   */
  contains: boolean;
}

function setRule(rule: Rule): boolean {
  return rule.head.key !== undefined && rule.head.value === undefined;
}

function ruleText(rule: Rule, printer: TermPrinter, moduleKeywords: boolean, style: HeadStyle): string {
  const head = rule.head;
  let out = rule.default ? 'default ' : '';
  const isSet = setRule(rule);
  const keywords = moduleKeywords && (!isSet || style.contains);
  if (isSet && style.contains) out += `${printer.ref(head.ref, 0)} contains ${printer.term(head.key!, 0)}`;
  else if (isSet) out += `${printer.ref(head.ref, 0)}[${printer.term(head.key!, 0)}]`;
  else if (style.objectKeys && head.ref.length === 2 && head.ref[1].type === 'string') out += `${printer.term(head.ref[0], 0)}[${printer.term(head.ref[1], 0)}]`;
  else out += printer.ref(head.ref, 0);
  if (head.args) out += `(${head.args.map((a) => printer.term(a, 0)).join(', ')})`;
  const dropBody = rule.generatedBody === true || (trivialBody(rule.body) && !rule.else);
  const impliedTrue = !dropBody && saysTrue(head);
  // opa fmt leaves out a v0 two-part head's implied value (`a.b if true` is written `a["b"]`).
  const v0Implied = !printer.v1 && head.generatedValue && head.ref.length === 2;
  if (head.value && !impliedTrue && !v0Implied && (!head.generatedValue || (dropBody && !rule.generatedBody))) {
    out += `${head.assign || printer.v1 ? ' :=' : ' ='} ${printer.term(head.value, 0)}`;
  }
  if (!dropBody) out += bodyText(rule, printer, keywords, head.loc.row);
  else out = withTrailing(out, printer, rule.loc.end);
  let inline = inlineBody(rule, head.loc.row, keywords);
  for (let e = rule.else; e; e = e.else) {
    out += elseText(e, printer, keywords, inline);
    inline = inlineBody(e, e.loc.row, keywords);
  }
  return out;
}

/** A single expression written on the head's row goes after `if` without braces. */
function inlineBody(rule: Rule, row: number, keywords: boolean): boolean {
  return keywords && rule.body.length === 1 && rule.body[0].loc.row === row && !rule.generatedBody && !rule.body[0].generated;
}

function bodyText(rule: Rule, printer: TermPrinter, keywords: boolean, row: number): string {
  if (keywords) {
    if (inlineBody(rule, row, keywords)) {
      const text = ` if ${printer.expr(rule.body[0], 0)}`;
      const trailing = printer.comments.trailing(printer.endRow(rule.body[0]));
      return trailing ? `${text} ${trailing}` : text;
    }
    return ` if ${printer.block(rule.body, -1, 0, rule.loc.end)}`;
  }
  return ` ${printer.block(rule.body, -1, 0, rule.loc.end)}`;
}

/**
 * `} else` where the keyword followed the closing brace on its row; otherwise (and after a body without braces)
 * the keyword starts a line of its own after a blank one.
 */
function elseText(rule: Rule, printer: TermPrinter, keywords: boolean, afterInline: boolean): string {
  const source = printer.source;
  let i = rule.loc.offset - 1;
  while (i >= 0 && /\s/.test(source[i])) i--;
  const braceOnRow = source[i] === '}' && printer.rowOf(i) === rule.loc.row;
  let out = braceOnRow && !afterInline ? ' else' : '\n\nelse';
  const head = rule.head;
  const dropBody = rule.generatedBody === true || rule.body.every((e) => e.generated)
    || (trivialBody(rule.body) && (head.generatedValue || !keywords) && !rule.else);
  if (head.value && (!head.generatedValue || dropBody) && (dropBody || !saysTrue(head))) {
    out += `${head.assign || printer.v1 ? ' :=' : ' ='} ${printer.term(head.value, 0)}`;
  }
  if (!dropBody) out += bodyText(rule, printer, keywords, rule.loc.row);
  return out;
}
