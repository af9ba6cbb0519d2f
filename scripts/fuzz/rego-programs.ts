// Differential fuzzing of the compiler: seeded random Rego v1 modules (typed expressions over numbers, strings,
// arrays, sets and objects; comprehensions, builtins of the string, number, collection, encoding, regex, glob,
// units, semver, time and net families, sprintf's verbs on every kind, functions of several definitions, partial
// set and object rules, else chains, every, `with` on input, data and functions) evaluated by
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
import { evalErrorDetail } from '../../src/engine/eval-error.js';
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
        if (leaf) return this.pick(['0', '1', '2', '-3', '7', '2.5', '100', '1e3', 'input.n', '-0.5', '0.1', '1.0', '-0.0', '123456789.5', '12345678901234567890123', '9007199254740993']);
        return this.pick([
          () => `(${this.expr('number', depth - 1)} ${this.pick(['+', '-', '*'])} ${this.expr('number', depth - 1)})`,
          () => `count(${this.expr(this.pick(['array', 'set', 'object', 'string'] as const), depth - 1)})`,
          () => `sum(${this.numbers(depth - 1)})`,
          () => `max(${this.numbers(depth - 1)})`,
          () => `abs(${this.expr('number', depth - 1)})`,
          () => `round(${this.expr('number', depth - 1)})`,
          () => `to_number(${JSON.stringify(String(this.int(-5, 50)))})`,
          () => `object.get(${this.expr('object', depth - 1)}, ${this.key()}, ${this.int(0, 9)})`,
          () => `(${this.expr('number', depth - 1)} ${this.pick(['/', '%'])} ${this.expr('number', depth - 1)})`,
          () => `${this.pick(['floor', 'ceil'])}(${this.expr('number', depth - 1)})`,
          () => `${this.pick(['min', 'product'])}(${this.numbers(depth - 1)})`,
          () => `to_number(${this.pick(['"1.0"', '"-0"', '"1e3"', '"0.5"', '"123456789012345678901234567890"', '"-7.25"'])})`,
          () => `units.parse(${this.pick(['"1K"', '"1Ki"', '"1.5M"', '"100m"', '"2G"', '"0.5"', '"3e2k"'])})`,
          () => `units.parse_bytes(${this.pick(['"1KiB"', '"1kb"', '"3MB"', '"7"', '"1.5GiB"'])})`,
          () => `semver.compare(${this.semver()}, ${this.semver()})`,
          () => `time.parse_duration_ns(${this.pick(['"1h2m"', '"3.5s"', '"100ms"', '"-1.5h"', '"1us"'])})`,
          () => `${this.pick(['indexof', 'strings.count'])}(${this.expr('string', depth - 1)}, "a")`,
          () => `time.parse_rfc3339_ns(${this.pick(['"2020-01-01T00:00:00Z"', '"2024-02-29T12:30:00.5+02:00"', '"1970-01-01T00:00:00.000000001Z"'])})`,
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
          () => {
            const verbs = ['%v', '%d', '%s', '%.2f', '%e', '%g', '%x', '%q', '%T', '%5v', '%-4v|', '%+v', '%05.1f', '%G'];
            const kinds = ['number', 'string', 'array', 'set', 'object', 'boolean'] as const;
            const n = this.int(1, 3);
            const args = Array.from({ length: n }, () => this.expr(this.pick(kinds), depth - 1));
            return `sprintf(${JSON.stringify(Array.from({ length: n }, () => this.pick(verbs)).join(' '))}, [${args.join(', ')}])`;
          },
          () => `format_int(${this.expr('number', depth - 1)}, ${this.pick([2, 8, 10, 16])})`,
          () => `${this.pick(['base64.encode', 'base64url.encode_no_pad', 'urlquery.encode', 'hex.encode', 'strings.reverse', 'trim_space'])}(${this.expr('string', depth - 1)})`,
          () => `base64.decode(base64.encode(${this.expr('string', depth - 1)}))`,
          () => `urlquery.encode_object({"a": ${this.expr('string', depth - 1)}, "b": ["x", ${this.expr('string', depth - 1)}]})`,
          () => `yaml.marshal(${this.expr(this.pick(['array', 'object', 'set', 'number', 'string'] as const), depth - 1)})`,
          () => `regex.replace(${this.expr('string', depth - 1)}, ${this.pick(['"[a-c]"', '"(a)(b)?"', '"^"', '"\\\\d+"'])}, ${this.pick(['"x"', '"$1-"', '"${1}y"', '""'])})`,
          () => `substring(${this.expr('string', depth - 1)}, ${this.int(0, 3)}, ${this.int(-1, 4)})`,
          () => `${this.pick(['upper', 'lower'])}(${this.pick(['"Straße"', '"İx"', '"ǅ"', '"Ab"'])})`,
          () => `type_name(${this.expr(this.pick(['number', 'string', 'array', 'set', 'object', 'boolean'] as const), depth - 1)})`,
          () => `concat("|", ${this.expr('array', depth - 1)})`,
          () => `strings.replace_n({"a": "1", "ab": "2"}, ${this.expr('string', depth - 1)})`,
        ])();
      case 'boolean':
        if (leaf) return this.pick(['true', 'false', 'input.b']);
        return this.pick([
          () => `${this.expr('number', depth - 1)} ${this.pick(['<', '<=', '==', '!=', '>'])} ${this.expr('number', depth - 1)}`,
          () => `startswith(${this.expr('string', depth - 1)}, "a")`,
          () => `${this.expr('string', depth - 1)} in ${this.strings(depth - 1)}`,
          () => `is_set(${this.expr(this.pick(['set', 'array'] as const), depth - 1)})`,
          () => `contains(${this.expr('string', depth - 1)}, "a")`,
          () => `regex.match(${this.pick(['"^a"', '"[0-9]+"', '"(?i)HELLO"', '"^$"', '"a|b"'])}, ${this.expr('string', depth - 1)})`,
          () => `glob.match(${this.pick(['"*.b"', '"a*"', '"{a,b}*"', '"**"', '"?"'])}, ${this.pick(['[]', '["."]', '[","]'])}, ${this.expr('string', depth - 1)})`,
          () => `net.cidr_contains(${this.pick(['"10.0.0.0/8"', '"192.168.1.0/24"', '"::/0"', '"2001:db8::/32"'])}, ${this.pick(['"10.1.2.3"', '"192.168.2.1"', '"2001:db8::1"', '"10.0.0.0/16"'])})`,
          () => `semver.is_valid(${this.semver()})`,
          () => `${this.pick(['json.is_valid', 'yaml.is_valid'])}(${this.expr('string', depth - 1)})`,
          () => `object.subset(${this.expr('object', depth - 1)}, ${this.expr('object', depth - 1)})`,
          () => `${this.expr('array', depth - 1)} == ${this.expr('array', depth - 1)}`,
        ])();
      case 'array':
        if (leaf) return this.pick(['[]', '[1, 2, 3]', '["a", "b"]', '[[1], {"k": 2}]', 'input.xs']);
        return this.pick([
          () => `[${this.expr('number', depth - 1)}, ${this.expr('string', depth - 1)}]`,
          () => `sort(${this.numbers(depth - 1)})`,
          () => `array.concat(${this.expr('array', depth - 1)}, ${this.expr('array', depth - 1)})`,
          () => `array.slice(${this.expr('array', depth - 1)}, ${this.int(0, 2)}, ${this.int(0, 4)})`,
          () => `split(${this.expr('string', depth - 1)}, ",")`,
          () => `array.reverse(${this.expr('array', depth - 1)})`,
          () => `regex.split(${this.pick(['","', '"[ab]"', '""'])}, ${this.expr('string', depth - 1)})`,
          () => `regex.find_n("[a-z]", ${this.expr('string', depth - 1)}, ${this.int(-1, 2)})`,
          () => `numbers.range(${this.int(-2, 2)}, ${this.int(-2, 3)})`,
          () => `json.unmarshal(${this.pick(['"[1, 2.5, \\"a\\"]"', '"[1.0, 1e2, -0]"', '"[12345678901234567890123]"'])})`,
          () => `sort(${this.strings(depth - 1)})`,
          () => {
            const x = this.fresh();
            return `[(${x} * 2) | some ${x} in ${this.numbers(depth - 1)}; ${x} > ${this.int(-1, 3)}]`;
          },
        ])();
      case 'set':
        if (leaf) return this.pick(['set()', '{1, 2}', '{"a", "c"}', '{[1], {"k": 1}}']);
        return this.pick([
          () => `${this.expr('set', depth - 1)} ${this.pick(['|', '&', '-'])} ${this.expr('set', depth - 1)}`,
          () => `{${this.expr('number', depth - 1)}, ${this.expr('string', depth - 1)}}`,
          () => `object.keys(${this.expr('object', depth - 1)})`,
          () => `${this.pick(['union', 'intersection'])}({${this.expr('set', depth - 1)}, ${this.expr('set', depth - 1)}})`,
          () => `{x | some x in ${this.numbers(depth - 1)}}`,
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
          () => `object.filter(${this.expr('object', depth - 1)}, [${this.key()}, ${this.key()}])`,
          () => `urlquery.decode_object(${this.pick(['"a=1&b=2&a=3"', '"k=%20x"', '""'])})`,
          () => `yaml.unmarshal(${this.pick(['"a: 1\\nb: [x, 2.5]"', '"k: {n: null}"', '"a: 010\\nb: 1e3"'])})`,
          () => `json.unmarshal(json.marshal(${this.expr('object', depth - 1)}))`,
          () => {
            const [k, v] = [this.fresh(), this.fresh()];
            return `{${k}: count(${v}) | some ${k}, ${v} in {"a": [1], "b": "xy"}}`;
          },
        ])();
    }
  }

  private semver(): string {
    return this.pick(['"1.0.0"', '"1.0.0-alpha"', '"1.0.0-alpha.1"', '"2.1.3+build"', '"1.10.0"', '"1.9.0"', '"v1.0.0"', '"1.0"']);
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
      switch (this.int(0, 10)) {
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
        case 4:
          lines.push(`default r${i} := "none"`, `r${i} := ${this.expr(kind, 2)} if ${this.expr('boolean', 2)}`);
          break;
        case 5: {
          const x = this.fresh();
          lines.push(`r${i} if {`, `  every ${x} in ${this.expr(this.pick(['array', 'set', 'object'] as const), 2)} {`, `    ${x} != ${this.expr(this.pick(['number', 'string'] as const), 1)}`, '  }', '}');
          break;
        }
        case 6:
          // `with` on input: the replaced value is a number, a string or a whole document.
          // (A rule head takes no `with`: the modified expression is in the body.)
          lines.push(`r${i} := x if x := ${this.expr(kind, 2)} with ${this.pick([`input.n as ${this.expr('number', 1)}`, `input.s as ${this.expr('string', 1)}`, `input as {"n": ${this.expr('number', 1)}, "xs": ["q"]}`])}`);
          break;
        case 7: {
          const [k, v] = [this.fresh(), this.fresh()];
          lines.push(`r${i}[${k}] := ${v} if {`, `  some ${k}, ${v} in ${this.expr('object', 2)}`, '}');
          break;
        }
        case 8:
          // A function of several definitions, and one whose definitions may both apply (a conflict).
          lines.push(`g${i}(x) := "n" if is_number(x)`, `g${i}(x) := "s" if is_string(x)`, `g${i}(x) := ${this.expr('string', 1)} if x == ${this.pick(['1', '"a"', '[]'])}`);
          lines.push(`r${i} := [${this.pick(['1', '"a"', '[]', 'true'])}, ${this.expr(this.pick(['number', 'string'] as const), 1)}]`, `r${i}g contains g${i}(x) if some x in r${i}`);
          break;
        case 9: {
          // `with` on a function: a builtin replaced by a value or by a function of the module.
          const target = this.pick([['count', 'array'], ['upper', 'string'], ['abs', 'number']] as const);
          lines.push(`m${i}(_) := ${this.expr(this.pick(['number', 'string'] as const), 1)}`);
          lines.push(`r${i} := x if x := ${target[0]}(${this.expr(target[1], 1)}) with ${target[0]} as ${this.pick([`m${i}`, this.expr('number', 0), this.pick(['lower', 'ceil'])])}`);
          break;
        }
        default:
          // `with` on data: a path under this package's data, replaced and read back.
          lines.push(`r${i} := x if x := data.${pkg}.d${i} with data.${pkg}.d${i} as ${this.expr(kind, 2)}`);
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

/** What a module gives: its document, a refusal at compile time, or an error while evaluating (a conflict or another). */
type Answer = { value: unknown } | { compileError: true } | { evalError: 'conflict' | 'other' };

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
    if (errors.length > 0 && errors.every((x) => x.code.startsWith('eval_'))) return { evalError: errors[0]!.code === 'eval_conflict_error' ? 'conflict' : 'other' };
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
  let text: ReturnType<typeof policy.evaluateToText>;
  try {
    text = policy.evaluateToText(FUZZ_INPUT, p.pkg, 'rego');
  } catch (e) {
    return { evalError: evalErrorDetail(e).code === 'eval_conflict_error' ? 'conflict' : 'other' };
  }
  const [row] = regoValueToJson(text) as Array<{ result?: unknown }>;
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
export function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalise((v as Record<string, unknown>)[k])]));
  return v;
}
