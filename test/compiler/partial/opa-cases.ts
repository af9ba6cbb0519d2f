// OPA's own partial-evaluation cases (TestTopDownPartialEval in v1/topdown/topdown_partial_test.go of the
// pinned OPA module), read at test time from the Go source: only cases whose fields are all literals are taken
// (a note, a query, modules, data, input, unknowns, disableInlining); cases that set options Verdict does not
// have (shallow inlining, non-deterministic builtins, AST-valued fields, and/or keywords) are left out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OpaPartialCase {
  note: string;
  query: string;
  modules: string[];
  data?: string;
  input?: string;
  unknowns?: string[];
  disableInlining?: string[];
}

const TAKEN = new Set(['note', 'query', 'modules', 'data', 'input', 'unknowns', 'disableInlining', 'wantQueries', 'wantSupport', 'ignoreOrder']);

export function opaPartialCases(moduleDir: string): OpaPartialCase[] {
  const text = readFileSync(join(moduleDir, 'v1/topdown/topdown_partial_test.go'), 'utf8');
  const start = text.indexOf('tests := []partialEvalTestCase{');
  if (start < 0) throw new Error('TestTopDownPartialEval cases not found');
  const cases: OpaPartialCase[] = [];
  let i = text.indexOf('{', start + 'tests := []partialEvalTestCase'.length) + 1;
  for (;;) {
    const open = nextCaseStart(text, i);
    if (open < 0) break;
    const close = matching(text, open);
    const c = parseCase(text.slice(open + 1, close));
    if (c) cases.push(c);
    i = close + 1;
    if (/^\s*}/.test(text.slice(i).replace(/^\s*,/, ''))) break;
  }
  return cases;
}

/** The next `{` at the list's level, skipping comments. */
function nextCaseStart(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '/' && text[i + 1] === '/') i = text.indexOf('\n', i);
    else if (ch === '{') return i;
    else if (ch === '}') return -1;
  }
  return -1;
}

/** The index of the brace closing the one at `open`, skipping Go strings and comments. */
function matching(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') i = endOfQuoted(text, i);
    else if (ch === '`') i = text.indexOf('`', i + 1);
    else if (ch === '/' && text[i + 1] === '/') i = text.indexOf('\n', i);
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces');
}

function endOfQuoted(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j;
  }
  throw new Error('unterminated string');
}

/** Fields of one case as `name: value` at the top level of the block; undefined when one is not a literal. */
function parseCase(block: string): OpaPartialCase | undefined {
  const fields: Record<string, unknown> = {};
  let i = 0;
  while (i < block.length) {
    const m = /^\s*(?:\/\/[^\n]*\n\s*)*(\w+):\s*/.exec(block.slice(i));
    if (!m) break;
    const name = m[1]!;
    i += m[0].length;
    const parsed = parseValue(block, i);
    if (!parsed) return undefined;
    if (!TAKEN.has(name)) return undefined;
    fields[name] = parsed.value;
    i = parsed.end;
    const comma = /^\s*,?/.exec(block.slice(i))!;
    i += comma[0].length;
  }
  if (typeof fields.note !== 'string' || typeof fields.query !== 'string') return undefined;
  return {
    note: fields.note,
    query: fields.query,
    modules: (fields.modules as string[] | undefined) ?? [],
    data: fields.data as string | undefined,
    input: fields.input as string | undefined,
    unknowns: fields.unknowns as string[] | undefined,
    disableInlining: fields.disableInlining as string[] | undefined,
  };
}

function parseValue(block: string, i: number): { value: unknown; end: number } | undefined {
  const rest = block.slice(i);
  if (rest.startsWith('"')) {
    const end = endOfQuoted(block, i);
    try {
      return { value: JSON.parse(block.slice(i, end + 1)) as string, end: end + 1 };
    } catch {
      return undefined;
    }
  }
  if (rest.startsWith('`')) {
    const end = block.indexOf('`', i + 1);
    return { value: block.slice(i + 1, end), end: end + 1 };
  }
  const bool = /^(true|false)\b/.exec(rest);
  if (bool) return { value: bool[1] === 'true', end: i + bool[0].length };
  const list = /^\[\]string\{/.exec(rest);
  if (list) {
    const open = i + list[0].length - 1;
    const close = matching(block, open);
    const items: string[] = [];
    let j = open + 1;
    for (;;) {
      const ws = /^[\s,]*(?:\/\/[^\n]*\n[\s,]*)*/.exec(block.slice(j))!;
      j += ws[0].length;
      if (j >= close) break;
      const item = parseValue(block, j);
      if (!item || typeof item.value !== 'string') return undefined;
      items.push(item.value);
      j = item.end;
    }
    return { value: items, end: close + 1 };
  }
  return undefined;
}
