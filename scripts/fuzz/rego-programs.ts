// Differential fuzzing of the compiler: seeded random Rego v1 modules (typed expressions over numbers, strings,
// arrays, sets and objects; comprehensions, builtins, functions, partial set rules, else chains) evaluated by
// Verdict (our parser, stages, planner, wasm back end and host builtins) and by `opa eval`. Each module must give
// the same document, or both must refuse it at compile time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostBuiltins } from '../../src/builtins/index.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';
import { compileRego, RegoCompileError } from '../../src/compiler/compile-rego.js';
import { loadPolicy } from '../../src/engine/wasm-host.js';
import { regoValueToJson } from '../conformance/rego-value.js';
import { prng } from './prng.js';

type Kind = 'number' | 'string' | 'array' | 'set' | 'object' | 'boolean';

class Generator {
  private vars = 0;
  constructor(private readonly rand: () => number) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  private fresh(): string {
    return `v${this.vars++}`;
  }

  expr(kind: Kind, depth: number): string {
    const leaf = depth <= 0 || this.rand() < 0.3;
    switch (kind) {
      case 'number':
        if (leaf) return this.pick(['0', '1', '2', '-3', '7', '2.5', '100', '1e3', 'input.n']);
        return this.pick([
          () => `(${this.expr('number', depth - 1)} ${this.pick(['+', '-', '*'])} ${this.expr('number', depth - 1)})`,
          () => `count(${this.expr(this.pick(['array', 'set', 'object', 'string'] as const), depth - 1)})`,
          () => `sum(${this.numbers(depth - 1)})`,
          () => `max(${this.numbers(depth - 1)})`,
          () => `abs(${this.expr('number', depth - 1)})`,
          () => `round(${this.expr('number', depth - 1)})`,
          () => `to_number(${JSON.stringify(String(this.int(-5, 50)))})`,
          () => `object.get(${this.expr('object', depth - 1)}, ${this.key()}, ${this.int(0, 9)})`,
        ])();
      case 'string':
        if (leaf) return this.pick(['"a"', '"b"', '""', '"Hello"', '"x,y,z"', 'input.s']);
        return this.pick([
          () => `concat(${this.pick(['","', '"-"', '""'])}, ${this.strings(depth - 1)})`,
          () => `upper(${this.expr('string', depth - 1)})`,
          () => `lower(${this.expr('string', depth - 1)})`,
          () => `sprintf("%v-%v", [${this.expr('number', depth - 1)}, ${this.expr('string', depth - 1)}])`,
          () => `trim(${this.expr('string', depth - 1)}, "a")`,
          () => `substring("abcdef", ${this.int(0, 3)}, ${this.int(0, 4)})`,
          () => `replace(${this.expr('string', depth - 1)}, "a", "b")`,
          () => `json.marshal(${this.expr(this.pick(['array', 'object', 'set'] as const), depth - 1)})`,
        ])();
      case 'boolean':
        if (leaf) return this.pick(['true', 'false', 'input.b']);
        return this.pick([
          () => `${this.expr('number', depth - 1)} ${this.pick(['<', '<=', '==', '!=', '>'])} ${this.expr('number', depth - 1)}`,
          () => `startswith(${this.expr('string', depth - 1)}, "a")`,
          () => `${this.expr('string', depth - 1)} in ${this.strings(depth - 1)}`,
          () => `is_set(${this.expr(this.pick(['set', 'array'] as const), depth - 1)})`,
          () => `contains(${this.expr('string', depth - 1)}, "a")`,
        ])();
      case 'array':
        if (leaf) return this.pick(['[]', '[1, 2, 3]', '["a", "b"]', '[[1], {"k": 2}]', 'input.xs']);
        return this.pick([
          () => `[${this.expr('number', depth - 1)}, ${this.expr('string', depth - 1)}]`,
          () => `sort(${this.numbers(depth - 1)})`,
          () => `array.concat(${this.expr('array', depth - 1)}, ${this.expr('array', depth - 1)})`,
          () => `array.slice(${this.expr('array', depth - 1)}, ${this.int(0, 2)}, ${this.int(0, 4)})`,
          () => `split(${this.expr('string', depth - 1)}, ",")`,
          () => {
            const x = this.fresh();
            return `[${x} * 2 | some ${x} in ${this.numbers(depth - 1)}; ${x} > ${this.int(-1, 3)}]`;
          },
        ])();
      case 'set':
        if (leaf) return this.pick(['set()', '{1, 2}', '{"a", "c"}', '{[1], {"k": 1}}']);
        return this.pick([
          () => `${this.expr('set', depth - 1)} ${this.pick(['|', '&', '-'])} ${this.expr('set', depth - 1)}`,
          () => `{${this.expr('number', depth - 1)}, ${this.expr('string', depth - 1)}}`,
          () => `object.keys(${this.expr('object', depth - 1)})`,
          () => {
            const x = this.fresh();
            return `{${x} | some ${x} in ${this.expr(this.pick(['array', 'set'] as const), depth - 1)}}`;
          },
        ])();
      case 'object':
        if (leaf) return this.pick(['{}', '{"a": 1, "b": "x"}', '{"k": [1, 2], "n": {"m": null}}', 'input']);
        return this.pick([
          () => `{${this.key()}: ${this.expr(this.pick(['number', 'string', 'set'] as const), depth - 1)}}`,
          () => `object.union(${this.expr('object', depth - 1)}, ${this.expr('object', depth - 1)})`,
          () => `object.remove(${this.expr('object', depth - 1)}, [${this.key()}])`,
          () => {
            const [k, v] = [this.fresh(), this.fresh()];
            return `{${k}: count(${v}) | some ${k}, ${v} in {"a": [1], "b": "xy"}}`;
          },
        ])();
    }
  }

  private key(): string {
    return this.pick(['"a"', '"b"', '"k"', '"n"']);
  }

  private numbers(depth: number): string {
    return this.pick([`[${this.expr('number', depth)}, ${this.expr('number', depth)}]`, '[3, 1, 2]', '{4, 5}', 'input.nums']);
  }

  private strings(depth: number): string {
    return this.pick([`[${this.expr('string', depth)}, "b"]`, '["x", "y"]', '{"p", "q"}']);
  }

  module(pkg: string): string {
    const kinds: Kind[] = ['number', 'string', 'array', 'set', 'object', 'boolean'];
    const lines = [`package ${pkg}`, ''];
    const rules = this.int(2, 5);
    for (let i = 0; i < rules; i++) {
      const kind = this.pick(kinds);
      switch (this.int(0, 4)) {
        case 0:
          lines.push(`r${i} := ${this.expr(kind, 3)}`);
          break;
        case 1:
          lines.push(`r${i} := ${this.expr(kind, 2)} if {`, `  ${this.expr('boolean', 2)}`, `} else := ${this.expr(kind, 2)}`);
          break;
        case 2: {
          const x = this.fresh();
          lines.push(`r${i} contains ${x} if {`, `  some ${x} in ${this.expr(this.pick(['array', 'set'] as const), 2)}`, '}');
          break;
        }
        case 3:
          lines.push(`f${i}(a) := [a, ${this.expr(kind, 2)}]`, `r${i} := f${i}(${this.expr('number', 2)})`);
          break;
        default:
          lines.push(`default r${i} := "none"`, `r${i} := ${this.expr(kind, 2)} if ${this.expr('boolean', 2)}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}

export const FUZZ_INPUT = { n: 4, s: 'a,b', b: true, xs: [2, 'a'], nums: [5, 3.5], k: { a: 1 } };

/** Seeded modules, one package each (`fuzz_<seed>_<i>`). */
export function regoPrograms(seed: number, count: number): { pkg: string; source: string }[] {
  const g = new Generator(prng(seed));
  return Array.from({ length: count }, (_, i) => {
    const pkg = `fuzz_${seed}_${i}`;
    return { pkg, source: g.module(pkg) };
  });
}

type Answer = { value: unknown } | { compileError: true };

/** OPA's answer for each module, from one `opa eval` per module (a refused module must not hide the others). */
function opaAnswer(opa: string, dir: string, p: { pkg: string; source: string }): Answer {
  const file = join(dir, `${p.pkg}.rego`);
  writeFileSync(file, p.source);
  try {
    const out = execFileSync(opa, ['eval', '-f', 'json', '-d', file, '-i', join(dir, 'input.json'), `data.${p.pkg}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { value: (JSON.parse(out) as { result?: Array<{ expressions: Array<{ value: unknown }> }> }).result?.[0]?.expressions[0]?.value };
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    const errors = (JSON.parse(out || '{}') as { errors?: Array<{ code: string }> }).errors ?? [];
    if (errors.length > 0 && errors.every((x) => x.code.startsWith('rego_'))) return { compileError: true };
    throw new Error(`opa eval failed on ${p.pkg}: ${out}${(e as { stderr?: string }).stderr ?? ''}\n${p.source}`);
  }
}

async function ourAnswer(p: { pkg: string; source: string }): Promise<Answer> {
  let wasm: Uint8Array;
  try {
    wasm = compileRego([{ path: `${p.pkg}.rego`, source: p.source }], [p.pkg], { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  } catch (e) {
    if (e instanceof RegoCompileError) return { compileError: true };
    throw e;
  }
  const policy = await loadPolicy(wasm, hostBuiltins);
  policy.setData({});
  const [row] = regoValueToJson(policy.evaluateToText(FUZZ_INPUT, p.pkg, 'rego')) as Array<{ result?: unknown }>;
  return { value: row?.result };
}

export interface FuzzMismatch {
  pkg: string;
  source: string;
  opa: Answer;
  verdict: Answer | { crashed: string };
}

/** Runs programs until `count` are done or `deadline` (ms since epoch) passes; returns how many ran and what differed. */
export async function fuzzRego(opa: string, seed: number, count: number, deadline: number): Promise<{ ran: number; mismatches: FuzzMismatch[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-fuzz-rego-'));
  const mismatches: FuzzMismatch[] = [];
  let ran = 0;
  try {
    writeFileSync(join(dir, 'input.json'), JSON.stringify(FUZZ_INPUT));
    for (const p of regoPrograms(seed, count)) {
      if (Date.now() > deadline) break;
      const want = opaAnswer(opa, dir, p);
      let got: Answer | { crashed: string };
      try {
        got = await ourAnswer(p);
      } catch (e) {
        got = { crashed: String((e as Error).stack ?? e) };
      }
      ran++;
      if (JSON.stringify(normalise(got)) !== JSON.stringify(normalise(want))) mismatches.push({ ...p, opa: want, verdict: got });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ran, mismatches };
}

/** Objects compared with sorted keys and numbers by value, as OPA's JSON and ours may order or spell them differently. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalise((v as Record<string, unknown>)[k])]));
  return v;
}
