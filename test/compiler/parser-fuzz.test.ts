// Robustness: random and mutated Rego never crashes or hangs the parser, and every failure is a located
// rego_parse_error. Mutated modules are also given to the reference OPA, and the two must agree on whether
// each one parses (the figure is printed; see the threshold below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileModules } from '../../src/compiler/compile.js';
import { parseModule } from '../../src/compiler/parse-module.js';
import { mutate, prng, randomRego, seedModules } from './fuzz-corpus.js';
import { OpaParseOracle, opaModuleDir, opaPath } from './opa-oracle.js';

const COMPILE_CODES = ['rego_compile_error', 'rego_unsafe_var_error', 'rego_recursion_error', 'rego_type_error'];

function checkResult(source: string): void {
  const started = process.hrtime.bigint();
  const result = parseModule('fuzz.rego', source);
  if (result.module) {
    // Whatever parses must also go through the compile stages without throwing.
    for (const e of compileModules([result.module]).errors) assert.ok(COMPILE_CODES.includes(e.code), JSON.stringify(e));
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 2000, `parsing took ${ms} ms:\n${source}`);
  assert.ok(result.module !== undefined || result.errors.length > 0, 'neither a module nor errors');
  const lines = source.split('\n').length;
  for (const e of result.errors) {
    assert.equal(e.code, 'rego_parse_error', JSON.stringify(e));
    assert.ok(e.message.length > 0);
    assert.equal(e.location.file, 'fuzz.rego');
    if (e.message !== 'empty module') {
      assert.ok(e.location.row >= 1 && e.location.row <= lines + 1 && e.location.col >= 0, `bad location ${JSON.stringify(e)}`);
    }
  }
}

test('random and mutated Rego never crashes the parser or the compile stages; failures are located errors', () => {
  const rand = prng(20261122);
  const seeds = seedModules(opaModuleDir(), 3);
  const deadline = Date.now() + 20_000;
  let runs = 0;
  for (; runs < 6000 && Date.now() < deadline; runs++) {
    const source = runs % 3 === 0 ? randomRego(rand) : mutate(seeds[Math.floor(rand() * seeds.length)], rand);
    checkResult(source);
  }
  assert.ok(runs > 500, `only ${runs} fuzz iterations ran`);
});

test('deeply nested input is reported as a parse error, not a stack overflow', () => {
  for (const open of ['[', '{', '(', 'f(', '-(', 'not not ']) {
    const source = `package p\nx := ${open.repeat(50_000)}1`;
    const started = Date.now();
    const result = parseModule('deep.rego', source);
    assert.ok(Date.now() - started < 2000, `nesting with ${open} took ${Date.now() - started} ms`);
    assert.ok(result.errors.length > 0);
    assert.equal(result.errors[0].code, 'rego_parse_error');
  }
});

test('parse success/failure of mutated conformance modules agrees with opa parse', { timeout: 600_000 }, async () => {
  const rand = prng(7);
  const seeds = seedModules(opaModuleDir(), 2);
  const mutated = Array.from({ length: 600 }, () => mutate(seeds[Math.floor(rand() * seeds.length)], rand));
  const oracle = new OpaParseOracle(opaPath(), 'mutations');
  try {
    const reference = await oracle.parseAll(mutated.map((source) => ({ source, version: 'v1' as const })));
    const differ: string[] = [];
    let rejected = 0;
    let samePlace = 0;
    let sameMessage = 0;
    mutated.forEach((source, i) => {
      const ours = parseModule('m.rego', source);
      if (!reference[i].ok) rejected++;
      const opaFirst = (reference[i].json as { errors?: { message: string; location?: { row: number; col: number } }[] }).errors?.[0];
      if (!reference[i].ok && opaFirst && ours.errors.length > 0) {
        const mine = ours.errors[0];
        if (opaFirst.location?.row === mine.location.row && opaFirst.location?.col === mine.location.col) samePlace++;
        if (opaFirst.message === mine.message) sameMessage++;
      }
      if ((ours.errors.length === 0) !== reference[i].ok) {
        const opa = (reference[i].json as { errors?: { message: string }[] }).errors?.[0]?.message ?? '';
        differ.push(`opa ${reference[i].ok ? 'ok' : `fails ${JSON.stringify(opa.slice(0, 120))}`}; ours ${ours.errors.length ? `fails ${JSON.stringify(ours.errors[0].message)}` : 'ok'}\n${source}`);
      }
    });
    const agree = mutated.length - differ.length;
    console.log(`mutations: ${agree}/${mutated.length} agree (${((100 * agree) / mutated.length).toFixed(2)}%), OPA rejects ${rejected}; `
      + `first error at OPA's row:col ${samePlace}/${rejected}, same message ${sameMessage}/${rejected}`);
    for (const d of differ.slice(0, 8)) console.log(`---- ${d}`);
    assert.ok(rejected > 100, 'the mutations should break many modules');
    assert.ok(agree / mutated.length >= 0.97, `agreement ${agree}/${mutated.length} below 97%`);
    assert.ok(samePlace / rejected >= 0.95, `first error at OPA's place only ${samePlace}/${rejected}`);
    assert.ok(sameMessage / rejected >= 0.9, `first error with OPA's message only ${sameMessage}/${rejected}`);
  } finally {
    oracle.close();
  }
});
