// Differential fuzzing of partial evaluation: seeded random queries (conjunctions of comparisons, equations,
// rule reads, negations, iteration, calls and `with` over an unknown input) against one policy of complete,
// default, set and function rules, answered by `verdict eval -p` (in process) and `opa eval -p --format json`.
// The answers must be the same JSON: residual queries, support modules, generated names and error lists.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePartialQuery } from '../../src/cli/eval-partial.js';
import { prng } from './prng.js';
import { normalise, type FuzzMismatch } from './rego-programs.js';

const POLICY = `package p

r1 := input.a
r2 := x if x := input.b
r3 := x if input.c = x
allow if input.user == "alice"
allow if "admin" in input.roles
default d := false
d if input.n > 3
s contains x if some x in input.xs
f(x) := x + 1
k := 7
`;

const LITERALS = ['1', '2', '"alice"', 'true', 'null', '[1, 2]'];
const KEYS = ['a', 'b', 'c', 'n', 'user', 'xs'];

function partialQueries(seed: number, count: number): string[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const atoms: (() => string)[] = [
    () => `data.p.${pick(['r1', 'r2', 'r3'])} ${pick(['==', '=', '!='])} ${pick(LITERALS)}`,
    () => `${pick(LITERALS)} == data.p.${pick(['r1', 'r2', 'r3'])}`,
    () => `${pick(['x', 'y'])} = data.p.${pick(['r1', 'r2', 'r3', 'k'])}`,
    () => `input.${pick(KEYS)} ${pick(['==', '>', '<', '!=', '='])} ${pick(LITERALS)}`,
    () => `${pick(['x', 'y'])} ${pick(['=', ':='])} input.${pick(KEYS)}`,
    () => `${pick(['x', 'y'])} = input.${pick(KEYS)} + ${pick(['1', 'data.p.k'])}`,
    () => `${pick(['not ', ''])}data.p.${pick(['allow', 'd'])}`,
    () => `data.p.d == ${pick(['true', 'false'])}`,
    () => `data.p.s[${pick(['x', '1', '_'])}]`,
    () => `data.p.f(input.${pick(KEYS)}) == ${pick(['2', 'data.p.k'])}`,
    () => `count(input.xs) > ${pick(['0', '1'])}`,
    () => `input.xs[_] == ${pick(LITERALS)}`,
    () => `some i; input.xs[i] = ${pick(['x', '1'])}`,
    () => `lower(input.user) == "bob"`,
    () => `input.${pick(KEYS)} == ${pick(LITERALS)} with input.z as 1`,
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 3);
    out.push(Array.from({ length: n }, () => pick(atoms)()).join('; '));
  }
  return out;
}

/** Runs queries until `count` are done or `deadline` (ms since epoch) passes; returns how many ran and what differed. */
export async function fuzzPartial(opa: string, seed: number, count: number, deadline: number): Promise<{ ran: number; mismatches: FuzzMismatch[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-fuzz-partial-'));
  const policy = join(dir, 'p.rego');
  const mismatches: FuzzMismatch[] = [];
  let ran = 0;
  try {
    writeFileSync(policy, POLICY);
    for (const query of partialQueries(seed, count)) {
      if (Date.now() > deadline) break;
      let text: string;
      try {
        text = execFileSync(opa, ['eval', '-p', '--format', 'json', '-d', policy, query], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        text = (err as { stdout: string }).stdout;
      }
      const want = JSON.parse(text) as { errors?: Record<string, unknown>[] };
      // OPA's error details (the offending line) have no counterpart.
      if (want.errors) want.errors = want.errors.map(({ details: _d, ...rest }) => rest);
      let got: unknown;
      try {
        got = JSON.parse(JSON.stringify(await evaluatePartialQuery([policy], undefined, query, {})));
      } catch (e) {
        got = { crashed: String((e as Error).stack ?? e) };
      }
      ran++;
      if (JSON.stringify(normalise(got)) !== JSON.stringify(normalise(want))) mismatches.push({ pkg: query, source: POLICY, opa: { value: want }, verdict: { value: got } });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ran, mismatches };
}
