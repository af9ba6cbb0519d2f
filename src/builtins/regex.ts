// regex.* host builtins on re2js, a port of RE2: the same syntax and linear-time matching as Go's
// regexp package. Match iteration and "$name" expansion follow Go (re2js's own follow Java).
import type { RE2JS } from 're2js';
import { lazyRequire } from '../lazy-require.js';
import { BuiltinError, int, str } from './args.js';
import { globsIntersect } from './glob-intersection.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

/** The regular expression engine, loaded when a regex builtin first runs (lazy-require.ts). */
const re2js = lazyRequire<typeof import('re2js')>('re2js');
const compiled = new Map<string, RE2JS>();
const CACHE_LIMIT = 500;

function compile(builtin: string, pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = re2js().RE2JS.compile(pattern);
    } catch (e) {
      throw new BuiltinError(builtin, (e as Error).message);
    }
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

interface Match {
  start: number;
  end: number;
  /** Group texts (index 0 is the whole match); undefined for groups that did not take part. */
  groups: Array<string | undefined>;
  named: Record<string, string | null>;
}

/** Go's FindAll iteration: at most n matches (n < 0: all); an empty match right after a match is skipped. */
function findAll(re: RE2JS, s: string, n: number): Match[] {
  const out: Match[] = [];
  const m = re.matcher(s);
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length && m.find(pos)) {
    const start = m.start();
    const end = m.end();
    let accept = true;
    if (end === start) {
      if (start === prevEnd) accept = false;
      const cp = s.codePointAt(end);
      pos = end + (cp !== undefined && cp > 0xffff ? 2 : 1);
    } else pos = end;
    prevEnd = end;
    if (accept) {
      const groups: Array<string | undefined> = [];
      for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? undefined);
      out.push({ start, end, groups, named: m.getNamedGroups() });
    }
  }
  return out;
}

/** Go's Regexp.Expand: $1, $name, ${name}; $$ is a dollar; a malformed reference keeps its "$". */
function expand(template: string, match: Match): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    const ref = /^\{([A-Za-z0-9_]+)\}|^([A-Za-z0-9_]+)/.exec(template.slice(i + 1));
    if (!ref) {
      out += '$';
      continue;
    }
    const name = ref[1] ?? ref[2]!;
    i += ref[0].length;
    if (/^[0-9]+$/.test(name)) out += match.groups[Number(name)] ?? '';
    else out += match.named[name] ?? '';
  }
  return out;
}

function replace(base: unknown, pattern: unknown, value: unknown): string {
  const name = 'regex.replace';
  const s = str(name, 1, base);
  const re = compile(name, str(name, 2, pattern));
  const template = str(name, 3, value);
  let out = '';
  let last = 0;
  for (const m of findAll(re, s, -1)) {
    out += s.slice(last, m.start) + expand(template, m);
    last = m.end;
  }
  return out + s.slice(last);
}

function findN(pattern: unknown, value: unknown, n: unknown): string[] {
  const name = 'regex.find_n';
  const re = compile(name, str(name, 1, pattern));
  return findAll(re, str(name, 2, value), int(name, 3, n)).map((m) => m.groups[0] ?? '');
}

/** Go's regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** regex.template_match: literal text with regular expressions between the delimiters, anchored. */
function templateMatch(template: unknown, value: unknown, open: unknown, close: unknown): boolean {
  const name = 'regex.template_match';
  const tpl = str(name, 1, template);
  const s = str(name, 2, value);
  const start = str(name, 3, open);
  const end = str(name, 4, close);
  if (Buffer.byteLength(start) !== 1) throw new BuiltinError(name, `start delimiter has to be exactly one character long but is ${Buffer.byteLength(start)} long`);
  if (Buffer.byteLength(end) !== 1) throw new BuiltinError(name, `end delimiter has to be exactly one character long but is ${Buffer.byteLength(start)} long`);
  let pattern = '^';
  let level = 0;
  let openAt = 0;
  let textFrom = 0;
  for (let i = 0; i < tpl.length; i++) {
    if (tpl[i] === start) {
      if (++level === 1) openAt = i;
    } else if (tpl[i] === end) {
      if (--level === 0) {
        const inner = tpl.slice(openAt + 1, i);
        compile(name, `^${inner}$`);
        pattern += `${quoteMeta(tpl.slice(textFrom, openAt))}(${inner})`;
        textFrom = i + 1;
      } else if (level < 0) throw new BuiltinError(name, `unbalanced braces in ${JSON.stringify(tpl)}`);
    }
  }
  if (level !== 0) throw new BuiltinError(name, `unbalanced braces in ${JSON.stringify(tpl)}`);
  pattern += `${quoteMeta(tpl.slice(textFrom))}$`;
  return compile(name, pattern).matcher(s).find();
}

/** regex.find_all_string_submatch_n: every match with its groups ("" for groups that did not take part). */
function findAllSubmatch(pattern: unknown, value: unknown, n: unknown): string[][] {
  const name = 'regex.find_all_string_submatch_n';
  const re = compile(name, str(name, 1, pattern));
  return findAll(re, str(name, 2, value), int(name, 3, n)).map((m) => m.groups.map((g) => g ?? ''));
}

/**
 * Go's Regexp.Split(s, -1): the texts between matches. An empty text gives [""]; a match that ends at 0
 * leaves no piece before it, and the text after the last match counts unless that match starts at the end.
 */
function split(pattern: unknown, value: unknown): string[] {
  const name = 'regex.split';
  const re = compile(name, str(name, 1, pattern));
  const s = str(name, 2, value);
  if (s === '') return [''];
  const pieces: string[] = [];
  let from = 0;
  let lastStart = 0;
  for (const m of findAll(re, s, -1)) {
    lastStart = m.start;
    if (m.end !== 0) pieces.push(s.slice(from, m.start));
    from = m.end;
  }
  if (lastStart !== s.length) pieces.push(s.slice(from));
  return pieces;
}

function match(name: string) {
  return (pattern: unknown, value: unknown) => compile(name, str(name, 1, pattern)).matcher(str(name, 2, value)).find();
}

// regex.is_valid, regex.match, re_match and regex.find_all_string_submatch_n are native in OPA's wasm
// runtime; they are here too so a back end may leave them to the host.
export const regexBuiltins: readonly BuiltinEntry[] = [
  {
    name: 're_match',
    decl: fn([t.string, t.string], t.boolean),
    deprecated: true,
    host: match('re_match'),
  },
  {
    name: 'regex.find_all_string_submatch_n',
    decl: fn([arg('pattern', t.string), arg('value', t.string), arg('number', t.number)], arg('output', t.arrayOf(t.arrayOf(t.string)))),
    host: findAllSubmatch,
  },
  {
    name: 'regex.find_n',
    decl: fn([arg('pattern', t.string), arg('value', t.string), arg('number', t.number)], arg('output', t.arrayOf(t.string))),
    host: findN,
  },
  {
    name: 'regex.globs_match',
    decl: fn([arg('glob1', t.string), arg('glob2', t.string)], arg('result', t.boolean)),
    host: (a: unknown, b: unknown) => globsIntersect('regex.globs_match', str('regex.globs_match', 1, a), str('regex.globs_match', 2, b)),
  },
  {
    name: 'regex.is_valid',
    decl: fn([arg('pattern', t.string)], arg('result', t.boolean)),
    host: (pattern: unknown) => {
      if (typeof pattern !== 'string') return false;
      try {
        compile('regex.is_valid', pattern);
        return true;
      } catch {
        return false;
      }
    },
  },
  {
    name: 'regex.match',
    decl: fn([arg('pattern', t.string), arg('value', t.string)], arg('result', t.boolean)),
    host: match('regex.match'),
  },
  {
    name: 'regex.replace',
    decl: fn([arg('s', t.string), arg('pattern', t.string), arg('value', t.string)], arg('output', t.string)),
    host: replace,
  },
  {
    name: 'regex.split',
    decl: fn([arg('pattern', t.string), arg('value', t.string)], arg('output', t.arrayOf(t.string))),
    host: split,
  },
  {
    name: 'regex.template_match',
    decl: fn([arg('template', t.string), arg('value', t.string), arg('delimiter_start', t.string), arg('delimiter_end', t.string)], arg('result', t.boolean)),
    host: templateMatch,
  },
];
