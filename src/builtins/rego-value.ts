// Values crossing the host boundary keep their sets. A module prints a builtin's operands with
// opa_value_dump (Rego value text: JSON plus set literals and non-string object keys); sets arrive as
// RegoSet, an array that remembers it was a set. Builtins that do not care see an ordinary array, as before;
// a RegoSet passed through to the result (or built by a builtin) goes back into the module as a set.
import { NumberText } from '../json/number-text.js';

/** A Rego set as the host sees it: its elements in the module's order, marked as a set. */
export class RegoSet extends Array<unknown> {
  // map/filter/slice on a set give plain arrays: only an explicit RegoSet is sent back as a set.
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

export function regoSet(items: Iterable<unknown>): RegoSet {
  const s = new RegoSet();
  for (const x of items) s.push(x);
  return s;
}

export function isRegoSet(v: unknown): v is RegoSet {
  return v instanceof RegoSet;
}

/** A number as the module printed it, for builtins that must tell 1 from 1.0 or keep big integers. */
export { NumberText };

/** Marks a builtin whose operands must keep their numbers' text (NumberText instead of JS numbers). */
export const KEEPS_NUMBER_TEXT = Symbol('keeps number text');

export function keepsNumberText<F extends (...args: never[]) => unknown>(fn: F): F {
  return Object.assign(fn, { [KEEPS_NUMBER_TEXT]: true });
}

class Reader {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly numberText: boolean,
  ) {}

  private fail(what: string): never {
    throw new Error(`bad Rego value text at ${this.pos}: ${what}`);
  }

  private peek(): string {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos++;
    return this.text[this.pos] ?? '';
  }

  private eat(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  read(): unknown {
    const v = this.value();
    if (this.peek() !== '') this.fail('trailing text');
    return v;
  }

  private value(): unknown {
    const ch = this.peek();
    if (ch === '[') {
      this.pos++;
      const items: unknown[] = [];
      this.items(']', () => items.push(this.value()));
      return items;
    }
    if (ch === '{') return this.braced();
    if (ch === '"') {
      const m = /"(?:[^"\\]|\\.)*"/sy;
      m.lastIndex = this.pos;
      const hit = m.exec(this.text) ?? this.fail('unterminated string');
      this.pos += hit[0].length;
      return JSON.parse(hit[0]) as string;
    }
    for (const [word, v] of [['null', null], ['true', true], ['false', false], ['set()', undefined]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v === undefined ? new RegoSet() : v;
      }
    }
    const m = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const hit = m.exec(this.text) ?? this.fail('expected a value');
    this.pos += hit[0].length;
    return this.numberText ? new NumberText(hit[0]) : Number(hit[0]);
  }

  private items(close: string, each: () => void): void {
    if (this.eat(close)) return;
    do each();
    while (this.eat(','));
    if (!this.eat(close)) this.fail(`expected "${close}"`);
  }

  /** `{` opens an object (its first element is followed by `:`) or a non-empty set. */
  private braced(): unknown {
    this.pos++;
    if (this.eat('}')) return {};
    const first = this.value();
    if (this.eat(':')) {
      const o: Record<string, unknown> = {};
      o[keyText(first)] = this.value();
      if (this.eat(',')) {
        this.items('}', () => {
          const k = this.value();
          if (!this.eat(':')) this.fail('expected ":"');
          o[keyText(k)] = this.value();
        });
      } else if (!this.eat('}')) this.fail('expected "}"');
      return o;
    }
    const s = regoSet([first]);
    if (this.eat(',')) this.items('}', () => s.push(this.value()));
    else if (!this.eat('}')) this.fail('expected "}"');
    return s;
  }
}

/** Non-string keys become their JSON text, as opa_json_dump prints them. */
function keyText(k: unknown): string {
  if (k instanceof NumberText) return k.text;
  return typeof k === 'string' ? k : JSON.stringify(k);
}

/**
 * Reads opa_value_dump text. Text without sets or non-string keys is plain JSON, read natively, unless
 * `numberText` asks for every number as its NumberText.
 */
export function parseRegoValue(text: string, numberText = false): unknown {
  if (numberText) return new Reader(text, true).read();
  try {
    return JSON.parse(text);
  } catch {
    return new Reader(text, false).read();
  }
}

/** Does a result hold a set or an exact number, which plain JSON.stringify would not write faithfully? */
export function needsValueText(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof RegoSet || v instanceof NumberText) return true;
  return (Array.isArray(v) ? v : Object.values(v)).some(needsValueText);
}

/** Rego value text for opa_value_parse: JSON, with each RegoSet as a set literal and NumberText as written. */
export function regoValueText(v: unknown): string {
  if (v instanceof NumberText) return v.text;
  if (v instanceof RegoSet) return v.length === 0 ? 'set()' : `{${v.map(regoValueText).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(regoValueText).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}:${regoValueText(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
