// The modules of OPA's conformance cases (v1 and v0 suites) and `opa fmt`'s formatting of each, for the fmt
// differential test. OPA formats a whole directory copy per suite with `-w` (one process, not one per module);
// it stops at the first module it cannot parse, so that module is recorded as an error and the run resumes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RegoVersion } from '../../src/compiler/ast.js';
import { formatSource } from '../../src/compiler/format/format.js';
import { loadCases } from '../conformance/cases.js';

export interface FmtCase {
  /** e.g. "v1/aggregates/test-aggregates-0001.yaml#0.1" (suite, file, case index, module index). */
  name: string;
  version: RegoVersion;
  source: string;
  /** OPA's output, or undefined where OPA refused the module (a parse error). */
  expected?: string;
  /** OPA's message where it refused the module. */
  error?: string;
}

const repoRoot = resolve(new URL('.', import.meta.url).pathname, '../../..');

export function opaBinary(): string {
  return execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
}

export function corpusModules(): FmtCase[] {
  const moduleDir = execFileSync(join(repoRoot, 'scripts/opa-module-dir.sh'), { encoding: 'utf8' }).trim();
  const cases: FmtCase[] = [];
  for (const version of ['v1', 'v0'] as const) {
    const seen = new Set<string>();
    for (const c of loadCases(join(moduleDir, 'v1/test/cases/testdata', version))) {
      (c.case.modules ?? []).forEach((source, i) => {
        if (seen.has(source)) return;
        seen.add(source);
        cases.push({ name: `${version}/${c.file}#${c.index}.${i}`, version, source });
      });
    }
  }
  return cases;
}

/** Fills in `expected`/`error` of every case by running `opa fmt -w` over a temporary copy. */
export function formatWithOpa(cases: FmtCase[], opa: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-fmt-'));
  try {
    for (const version of ['v1', 'v0'] as const) {
      const sub = join(dir, version);
      mkdirSync(sub);
      const files = new Map<string, FmtCase>();
      cases.forEach((c, i) => {
        if (c.version !== version) return;
        const file = join(sub, `m${String(i).padStart(5, '0')}.rego`);
        writeFileSync(file, c.source);
        files.set(file, c);
      });
      const args = ['fmt', '-w', ...(version === 'v0' ? ['--v0-compatible'] : []), sub];
      for (;;) {
        const r = spawnSync(opa, args, { encoding: 'utf8' });
        if (r.status === 0) break;
        const m = /^failed to format Rego source file: .*?(\S+\.rego):/m.exec(r.stderr) ?? /(\/\S+\.rego)/.exec(r.stderr);
        const file = m ? resolve(m[1]) : undefined;
        if (!file || !files.has(file) || !existsSync(file)) throw new Error(`opa fmt failed: ${r.stderr}`);
        files.get(file)!.error = r.stderr;
        rmSync(file);
      }
      for (const [file, c] of files) if (existsSync(file)) c.expected = readFileSync(file, 'utf8');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The modules scripts/fmt/differing-modules.txt lists as not yet formatted as `opa fmt` does. */
export function knownDifferences(): Set<string> {
  const text = readFileSync(join(repoRoot, 'scripts/fmt/differing-modules.txt'), 'utf8');
  return new Set(text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}

export interface FmtOutcome {
  c: FmtCase;
  actual?: string;
  error?: string;
  equal: boolean;
}

/** Verdict's formatting of a case next to OPA's: equal when both give the same text or both refuse the module. */
export function compareWithOpa(c: FmtCase): FmtOutcome {
  const r = formatSource('x.rego', c.source, c.version);
  const error = r.errors.length > 0 ? r.errors.map((e) => e.message).join('; ') : undefined;
  const equal = c.expected === undefined ? r.text === undefined : r.text === c.expected;
  return { c, actual: r.text, error, equal };
}

/** The first line where the outputs part, as `opa | verdict`. */
export function firstDifference(o: FmtOutcome): string {
  if (o.c.expected === undefined) return 'opa refused the module, verdict did not';
  if (o.actual === undefined) return `verdict refused: ${o.error}`;
  const a = o.c.expected.split('\n');
  const b = o.actual.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  return `${JSON.stringify(a[i])} | ${JSON.stringify(b[i])}`;
}
