// The wasm runtime (dist/src/wasm/runtime.wasm) instantiated on its own, so that JavaScript code answers a native
// builtin, or compares two numbers, with the very code compiled modules run: the partial evaluator (Compile API,
// `verdict eval -p`, --explain) folds builtin calls through it, and exact number comparison uses its order. One
// instance per thread, made on first use, on a memory of its own; a call's values are released when it returns.
import { readFileSync } from 'node:fs';
import { parseRegoValue, regoValueText } from '../builtins/rego-value.js';

type Fn = (...args: number[]) => number;

class StandaloneRuntime {
  private readonly memory = new WebAssembly.Memory({ initial: 4 });
  private readonly fns: Record<string, Fn | undefined>;
  /** The heap pointer after the runtime's scratch space: each call starts there. */
  private readonly base: number;

  constructor() {
    const module = new WebAssembly.Module(readFileSync(new URL('./runtime.wasm', import.meta.url)));
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory: this.memory,
        opa_abort: (p: number) => {
          throw new Error(`wasm runtime aborted: ${this.cString(p)}`);
        },
      },
      verdict: {
        eval_plans: () => {
          throw new Error('the standalone wasm runtime has no plans');
        },
      },
    });
    this.fns = instance.exports as unknown as Record<string, Fn | undefined>;
    this.fn('regionInit')(this.fn('opa_heap_ptr_get')(), 0);
    this.base = this.fn('opa_heap_ptr_get')();
  }

  private fn(name: string): Fn {
    const f = this.fns[name];
    if (typeof f !== 'function') throw new Error(`the wasm runtime has no export ${name}: rebuild it`);
    return f;
  }

  private cString(p: number): string {
    const bytes = new Uint8Array(this.memory.buffer);
    let end = p;
    while (bytes[end] !== 0) end++;
    return Buffer.from(bytes.buffer, p, end - p).toString('utf8');
  }

  /** The runtime value of a JS value (Rego value text: RegoSet as a set, NumberText as written). */
  private value(v: unknown): number {
    const text = Buffer.from(regoValueText(v), 'utf8');
    const p = this.fn('opa_malloc')(text.length);
    new Uint8Array(this.memory.buffer, p, text.length).set(text);
    const parsed = this.fn('opa_value_parse')(p, text.length);
    if (parsed === 0) throw new Error(`the wasm runtime cannot read ${regoValueText(v)}`);
    return parsed;
  }

  private run<T>(body: () => T): T {
    this.fn('opa_heap_ptr_set')(this.base);
    try {
      return body();
    } finally {
      this.fn('opa_heap_ptr_set')(this.base);
    }
  }

  /** Calls runtime export `name` on values; undefined when the call is (a failed builtin is undefined too). */
  call(name: string, args: readonly unknown[]): unknown {
    const f = this.fn(name);
    return this.run(() => {
      const result = f(...args.map((a) => this.value(a)));
      return result === 0 ? undefined : parseRegoValue(this.cString(this.fn('opa_value_dump')(result)), true);
    });
  }

  /** The runtime's answer as a plain integer (compare). */
  callRaw(name: string, args: readonly unknown[]): number {
    const f = this.fn(name);
    return this.run(() => f(...args.map((a) => this.value(a))));
  }
}

let runtime: StandaloneRuntime | undefined;

function standalone(): StandaloneRuntime {
  runtime ??= new StandaloneRuntime();
  return runtime;
}

/** Runs the runtime's builtin export `name` (b_plus, b_round ...) on values; numbers come back as NumberText. */
export function callRuntimeBuiltin(name: string, args: readonly unknown[]): unknown {
  return standalone().call(name, args);
}

/** OPA's order of two values as the runtime computes it: numbers exactly, by their decimal value. */
export function runtimeCompare(a: unknown, b: unknown): number {
  return Math.sign(standalone().callRaw('compare', [a, b]));
}
