// Static data the generated code points at: the plan's strings as ready-made string values,
// boolean values, and texts (JSON constants, abort messages). Record shapes follow
// src/wasm/runtime/value.ts.
const T_BOOL = 2;
const T_STRING = 4;

export interface StaticString {
  /** Address of the string value record. */
  addr: number;
  /** Address and byte length of its UTF-8 bytes. */
  ptr: number;
  len: number;
}

export class DataLayout {
  readonly start: number;
  private buf = new Uint8Array(4096);
  private size = 0;
  private readonly encoder = new TextEncoder();
  private readonly cstrings = new Map<string, number>();
  /** Addresses of the words holding an address in the data (string records' byte pointers), for relocation. */
  readonly pointers: number[] = [];

  constructor(after: number) {
    this.start = align8(after);
  }

  private reserve(n: number, alignTo = 1): number {
    this.size = Math.ceil(this.size / alignTo) * alignTo;
    if (this.size + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.size + n));
      next.set(this.buf.subarray(0, this.size));
      this.buf = next;
    }
    const at = this.size;
    this.size += n;
    return at;
  }

  private i32s(values: number[]): number {
    const at = this.reserve(values.length * 4, 8);
    const view = new DataView(this.buf.buffer);
    values.forEach((v, i) => view.setInt32(at + i * 4, v, true));
    return this.start + at;
  }

  text(value: string): { ptr: number; len: number } {
    const bytes = this.encoder.encode(value);
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
    return { ptr: this.start + at, len: bytes.length };
  }

  /** NUL-terminated text, as opa_abort expects; identical texts share one copy. */
  cString(value: string): number {
    const known = this.cstrings.get(value);
    if (known !== undefined) return known;
    const { ptr } = this.text(value + '\0');
    this.cstrings.set(value, ptr);
    return ptr;
  }

  string(value: string): StaticString {
    const { ptr, len } = this.text(value);
    const addr = this.i32s([T_STRING, len, ptr, 0]);
    this.pointers.push(addr + 8);
    return { addr, ptr, len };
  }

  bool(b: boolean): number {
    return this.i32s([T_BOOL, b ? 1 : 0]);
  }

  /** First byte after the data, 8-aligned: where the heap begins. */
  end(): number {
    return align8(this.start + this.size);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.size);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
