// Runs OPA's partial-evaluation cases (opa-cases.ts) through `opa eval -p` and through Verdict, and classifies
// each: equivalent, refused by Verdict (an error naming what it does not support), or different. OPA's
// answers are cached in .cache/ (as OPA printed them, normalised when compared) by OPA version and case
// content, so repeated runs start no OPA process.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verdictBuiltins, verdictDeprecated } from '../../../src/compiler/builtins.js';
import { RegoCompileError } from '../../../src/compiler/compile-rego.js';
import { partialEvaluate, PartialEvalError, partialResultJson } from '../../../src/compiler/partial/index.js';
import { inOperandOrder, normaliseQueries, normaliseSupport, sortedJson } from './normalise.js';
import type { OpaPartialCase } from './opa-cases.js';

type Json = Record<string, unknown>;
export type Outcome = { kind: 'result'; queries: string[][]; support: string[] } | { kind: 'error'; message: string };
type RawOutcome = { kind: 'result'; queries: Json[][]; modules: Json[] } | { kind: 'error'; message: string };
/**
 * `inOrder`: also the same with the operands of each `=` in the order OPA writes them; `exact`: the same JSON
 * as OPA prints, expressions, queries, support rules and generated names included.
 */
export interface Classified { note: string; verdict: Outcome; opa: Outcome; same: boolean; inOrder: boolean; exact: boolean }

export function runCorpus(opa: string, cases: OpaPartialCase[]): Classified[] {
  const version = readFileSync('scripts/opa-version.txt', 'utf8').trim();
  mkdirSync('.cache', { recursive: true });
  const cacheFile = join('.cache', `opa-partial-eval-raw-${version}.json`);
  const cache = (existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {}) as Record<string, RawOutcome>;
  const dir = mkdtempSync(join(tmpdir(), 'verdict-opa-partial-'));
  try {
    const out = cases.map((c) => {
      const key = createHash('sha256').update(JSON.stringify(c)).digest('hex');
      cache[key] ??= opaOutcome(opa, dir, c);
      const raw = cache[key]!;
      const verdictRaw = verdictRawOutcome(c);
      const compare = () => {
        const verdict = normalised(verdictRaw);
        const opaOut = normalised(raw);
        return { verdict, opaOut, same: JSON.stringify(verdict) === JSON.stringify(opaOut) || (verdict.kind === 'error' && opaOut.kind === 'error') };
      };
      const { verdict, opaOut, same } = compare();
      const inOrder = same && inOperandOrder(compare).same;
      const exact = raw.kind === 'result' && verdictRaw.kind === 'result' && sortedJson(verdictRaw) === sortedJson(raw);
      return { note: c.note, verdict, opa: opaOut, same, inOrder, exact };
    });
    writeFileSync(cacheFile, JSON.stringify(cache));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opaOutcome(opa: string, dir: string, c: OpaPartialCase): RawOutcome {
  const args = ['eval', '-p', '--format', 'json'];
  c.modules.forEach((m, i) => {
    writeFileSync(join(dir, `m${i}.rego`), m);
    args.push('-d', join(dir, `m${i}.rego`));
  });
  if (c.data) {
    writeFileSync(join(dir, 'data.json'), c.data);
    args.push('-d', join(dir, 'data.json'));
  }
  if (c.input) {
    writeFileSync(join(dir, 'input.json'), c.input);
    args.push('-i', join(dir, 'input.json'));
  }
  for (const u of c.unknowns ?? ['input']) args.push('--unknowns', u);
  for (const d of c.disableInlining ?? []) args.push('--disable-inlining', d);
  let text: string;
  try {
    text = execFileSync(opa, [...args, c.query], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    text = (err as { stdout: string }).stdout;
  }
  const json = JSON.parse(text || '{}') as { partial?: { queries?: Json[][]; modules?: Json[] }; errors?: Array<{ message: string }> };
  if (json.errors) return { kind: 'error', message: json.errors.map((e) => e.message).join('; ') };
  return { kind: 'result', queries: json.partial?.queries ?? [], modules: json.partial?.modules ?? [] };
}

function normalised(raw: RawOutcome): Outcome {
  return raw.kind === 'error' ? raw : { kind: 'result', queries: normaliseQueries(raw.queries), support: normaliseSupport(raw.modules) };
}

function verdictRawOutcome(c: OpaPartialCase): RawOutcome {
  try {
    const files = c.modules.map((source, i) => ({ path: `m${i}.rego`, source }));
    const result = partialEvaluate(files, {
      query: c.query,
      unknowns: c.unknowns,
      disableInlining: c.disableInlining,
      input: c.input === undefined ? undefined : JSON.parse(c.input),
      data: c.data === undefined ? {} : JSON.parse(c.data),
    }, { builtins: verdictBuiltins, deprecated: verdictDeprecated });
    const json = JSON.parse(JSON.stringify(partialResultJson(result))) as { queries: Json[][]; support: Json[] };
    return { kind: 'result', queries: json.queries, modules: json.support };
  } catch (err) {
    if (err instanceof RegoCompileError || err instanceof PartialEvalError) return { kind: 'error', message: err.message };
    return { kind: 'error', message: `crash: ${(err as Error).stack}` };
  }
}
