// `--set` and `--set-file` as `opa run` reads them (the strvals syntax OPA shares with Helm):
//   a.b=v            nested keys; several pairs separated by commas
//   list[0].name=v   list indexes (missing elements become null)
//   a={x,y}          a list value
//   a\.b=v, v\,w     a backslash takes the next character literally
// --set values are typed: true/false/null (any case) and decimal integers without a leading zero; the rest,
// "1.5" included, stay strings. --set-file values are the named file's text with surrounding whitespace trimmed.
// Every override goes into one tree, which is then merged over the config file (objects merged, others replaced).
import { readFileSync } from 'node:fs';
import { isJsonObject as isObject } from '../json/kinds.js';

export class SetValueError extends Error {}

type Tree = Record<string, unknown>;
type ReadValue = (text: string) => unknown;

/** The largest list index accepted, as OPA (and Helm) bound it. */
const MAX_INDEX = 65536;

export function parseOverrides(sets: string[], setFiles: string[]): Tree {
  const tree: Tree = {};
  for (const text of sets) parseInto(text, tree, typedValue, '--set');
  const readFile = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new SetValueError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  for (const text of setFiles) parseInto(text, tree, readFile, '--set-file');
  return tree;
}

/** Merges `over` into a copy of `base`: objects key by key, every other value replaced. */
export function mergeOverrides(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const have = out[key];
    out[key] = isObject(have) && isObject(value) ? mergeOverrides(have, value) : value;
  }
  return out;
}

function parseInto(text: string, tree: Tree, read: ReadValue, flag: string): void {
  try {
    new Scanner(text, read).pairs(tree);
  } catch (err) {
    if (err instanceof SetValueError) throw new SetValueError(`${flag} ${text}: ${err.message}`);
    throw err;
  }
}

function typedValue(text: string): unknown {
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (text === '0') return 0;
  if (text[0] !== '0' && /^[+-]?[0-9]+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}

class Scanner {
  private at = 0;

  constructor(private readonly text: string, private readonly read: ReadValue) {}

  pairs(tree: Tree): void {
    while (this.at < this.text.length) this.key(tree);
  }

  /** Reads up to one of `stops` (not consumed), resolving backslash escapes. */
  private until(stops: string): { value: string; stop: string | undefined } {
    let value = '';
    while (this.at < this.text.length) {
      const c = this.text[this.at]!;
      if (c === '\\' && this.at + 1 < this.text.length) {
        value += this.text[this.at + 1];
        this.at += 2;
        continue;
      }
      if (stops.includes(c)) return { value, stop: c };
      value += c;
      this.at++;
    }
    return { value, stop: undefined };
  }

  /** One `key...=value` into `tree`; consumes a trailing comma. */
  private key(tree: Tree): void {
    const { value: name, stop } = this.until('=[,.');
    if (stop === undefined) throw new SetValueError(`key "${name}" has no value`);
    this.at++;
    if (name === '') throw new SetValueError(`empty key before "${stop}"`);
    if (stop === ',') throw new SetValueError(`key "${name}" has no value (cannot end with ,)`);
    if (stop === '=') {
      tree[name] = this.value();
      return;
    }
    if (stop === '.') {
      const child = isObject(tree[name]) ? (tree[name] as Tree) : {};
      tree[name] = child;
      this.key(child);
      return;
    }
    const list = Array.isArray(tree[name]) ? (tree[name] as unknown[]) : [];
    tree[name] = list;
    this.indexed(list);
  }

  /** After `name[`: the index, then `=value`, `.key...` or another `[index]`. */
  private indexed(list: unknown[]): void {
    const { value: digits, stop } = this.until(']');
    if (stop !== ']') throw new SetValueError('unterminated list index');
    this.at++;
    if (!/^[0-9]+$/.test(digits)) throw new SetValueError(`list index "${digits}" is not a non-negative integer`);
    const index = Number(digits);
    if (index > MAX_INDEX) throw new SetValueError(`list index ${index} is larger than ${MAX_INDEX}`);
    while (list.length <= index) list.push(null);
    const next = this.text[this.at];
    this.at++;
    if (next === '=') {
      list[index] = this.value();
    } else if (next === '.') {
      const child = isObject(list[index]) ? (list[index] as Tree) : {};
      list[index] = child;
      this.key(child);
    } else if (next === '[') {
      const inner = Array.isArray(list[index]) ? (list[index] as unknown[]) : [];
      list[index] = inner;
      this.indexed(inner);
    } else {
      throw new SetValueError(`expected "=", "." or "[" after index ${index}`);
    }
  }

  /** A value after `=`: `{a,b}` or text up to the next unescaped comma (consumed). */
  private value(): unknown {
    if (this.text[this.at] === '{') {
      this.at++;
      const items: unknown[] = [];
      for (;;) {
        const { value, stop } = this.until(',}');
        if (stop === undefined) throw new SetValueError('list value is missing its closing "}"');
        this.at++;
        items.push(this.read(value));
        if (stop === '}') break;
      }
      const after = this.text[this.at];
      if (after !== undefined && after !== ',') throw new SetValueError('a list value must be followed by "," or the end');
      this.at++;
      return items;
    }
    const { value } = this.until(',');
    this.at++;
    return this.read(value);
  }
}
