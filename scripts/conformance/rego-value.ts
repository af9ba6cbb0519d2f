// Reads the Rego value text that a module's opa_value_dump / opa_eval(format=1) prints (JSON plus set
// literals and non-string object keys) into JSON, with every set as a sorted array. OPA's own wasm
// tests read results this way, so set element order never decides a case.
import { compareJson } from './compare.js';

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(what: string): never {
    throw new Error(`bad Rego value text at ${this.pos}: ${what}: ${this.text.slice(this.pos, this.pos + 40)}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected "${ch}"`);
    this.pos++;
  }

  value(): unknown {
    const ch = this.peek();
    if (ch === '[') return this.sequence(']');
    if (ch === '{') return this.braced();
    if (ch === '"') return this.string();
    for (const [word, v] of [['null', null], ['true', true], ['false', false]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    if (this.text.startsWith('set()', this.pos)) {
      this.pos += 5;
      return [];
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected a value');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private string(): string {
    const m = /^"(?:[^"\\]|\\.)*"/s.exec(this.text.slice(this.pos));
    if (!m) this.fail('unterminated string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private sequence(close: string): unknown[] {
    this.pos++;
    const items: unknown[] = [];
    if (this.peek() === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.expect(close);
      return items;
    }
  }

  /** `{k: v, ...}` is an object, `{a, b}` a set; `{}` is the empty object. */
  private braced(): unknown {
    this.pos++;
    if (this.peek() === '}') {
      this.pos++;
      return {};
    }
    const first = this.value();
    if (this.peek() === ':') {
      const obj: Record<string, unknown> = {};
      let key = first;
      for (;;) {
        this.expect(':');
        obj[typeof key === 'string' ? key : JSON.stringify(key)] = this.value();
        if (this.peek() !== ',') break;
        this.pos++;
        key = this.value();
      }
      this.expect('}');
      return obj;
    }
    const items = [first];
    while (this.peek() === ',') {
      this.pos++;
      items.push(this.value());
    }
    this.expect('}');
    return items.sort(compareJson);
  }

  end(): void {
    if (this.peek() !== '') this.fail('trailing text');
  }
}

export function regoValueToJson(text: string): unknown {
  const r = new Reader(text);
  const v = r.value();
  r.end();
  return v;
}
