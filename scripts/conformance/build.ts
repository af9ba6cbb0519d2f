// Turns a conformance case into a policy artefact (wasm module or IR plan) with the reference OPA,
// caching each artefact under .cache/conformance/ by the hash of everything that went into it.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ConformanceCase } from './cases.js';

/** Package of the module the runner adds to every case to turn its query into entrypoints. */
export const QUERY_PACKAGE = 'verdict_conformance';
export const BINDINGS_ENTRYPOINT = `${QUERY_PACKAGE}/bindings`;

export type BuildTarget = 'wasm' | 'plan';
export type Suite = 'v1' | 'v0';

export interface BuildSettings {
  opa: string;
  /**
   * Capabilities file: OPA's current capabilities plus test.sleep, the test-only builtin OPA's own wasm
   * tests register (time/test-time-0947 uses it); the runner provides it as a host builtin.
   */
  capabilities: string;
  /** `opa version` output: part of the cache key so a new OPA never reuses old artefacts. */
  opaVersion: string;
  cacheDir: string;
  suite: Suite;
}

export type BuildResult = { ok: true; artefact: Buffer } | { ok: false; error: string };

/**
 * The variables whose bindings the query must report: the keys of the expected rows.
 * Queries with no expected rows (want_defined, errors, empty results) report no variables;
 * only the number of rows matters for them.
 */
export function queryVariables(c: ConformanceCase): string[] {
  const names = new Set<string>();
  for (const row of c.want_result ?? []) for (const k of Object.keys(row)) names.add(k);
  return [...names].sort();
}

/**
 * The extra module that makes any query shape an entrypoint: an array comprehension over the
 * query body keeps OPA's evaluation order and duplicates, and collects the bindings of the
 * variables the case expects.
 */
export function queryModule(c: ConformanceCase): string {
  const head = '{' + queryVariables(c).map((v) => `${JSON.stringify(v)}: ${v}`).join(', ') + '}';
  return [`package ${QUERY_PACKAGE}`, '', `bindings := [${head} |\n${c.query}\n]`].join('\n') + '\n';
}

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** Reads one member out of a .tar.gz (ustar) in memory; OPA's bundles are small. */
export function tarMember(tarGz: Buffer, name: string): Buffer | undefined {
  const tar = gunzipSync(tarGz);
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const entry = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const body = off + 512;
    if (entry.replace(/^\/+/, '') === name) return Buffer.from(tar.subarray(body, body + size));
    off = body + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

function usesTestSleep(c: ConformanceCase): boolean {
  return (c.modules ?? []).some((m) => m.includes('test.sleep('));
}

export function cacheKey(settings: BuildSettings, target: BuildTarget, c: ConformanceCase): string {
  const h = createHash('sha256');
  const caps = usesTestSleep(c) ? 'capabilities+test.sleep' : '';
  for (const part of [settings.opaVersion, settings.suite, target, caps, queryModule(c), ...(c.modules ?? [])]) {
    h.update(part);
    h.update('\0');
  }
  return h.digest('hex');
}

/** Builds (or reads from cache) the wasm module or plan for a case. Build failures are cached too. */
export async function buildCase(settings: BuildSettings, target: BuildTarget, c: ConformanceCase): Promise<BuildResult> {
  const key = cacheKey(settings, target, c);
  const ext = target === 'wasm' ? 'wasm' : 'plan.json';
  const okPath = join(settings.cacheDir, `${key}.${ext}`);
  const errPath = join(settings.cacheDir, `${key}.err`);
  if (existsSync(okPath)) return { ok: true, artefact: readFileSync(okPath) };
  if (existsSync(errPath)) return { ok: false, error: readFileSync(errPath, 'utf8') };

  const work = mkdtempSync(join(tmpdir(), 'verdict-conformance-'));
  try {
    const files: string[] = [];
    (c.modules ?? []).forEach((m, i) => {
      const f = join(work, `module-${i}.rego`);
      writeFileSync(f, m);
      files.push(f);
    });
    const q = join(work, 'query.rego');
    writeFileSync(q, queryModule(c));
    files.push(q);
    const out = join(work, 'bundle.tar.gz');
    const args = ['build', '-t', target, '-e', BINDINGS_ENTRYPOINT, '-o', out];
    if (settings.suite === 'v0') args.push('--v0-compatible');
    if (usesTestSleep(c)) args.push('--capabilities', settings.capabilities);
    const { code, output } = await run(settings.opa, [...args, ...files]);
    mkdirSync(settings.cacheDir, { recursive: true });
    const member = code === 0 ? tarMember(readFileSync(out), target === 'wasm' ? 'policy.wasm' : 'plan.json') : undefined;
    if (!member) {
      const error = (output || `opa build exited ${code} without ${ext}`).split(work + '/').join('');
      writeFileSync(errPath, error);
      return { ok: false, error };
    }
    // Write then rename so a concurrent reader never sees half a file.
    const tmp = `${okPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, member);
    renameSync(tmp, okPath);
    return { ok: true, artefact: member };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes OPA's capabilities extended with test.sleep(string) → null next to the cache, returning its path. */
export function writeTestCapabilities(opa: string, cacheDir: string): string {
  const caps = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as {
    builtins: unknown[];
  };
  caps.builtins.push({ name: 'test.sleep', decl: { type: 'function', args: [{ type: 'string' }], result: { type: 'null' } } });
  const file = join(cacheDir, 'capabilities-with-test-sleep.json');
  writeFileSync(file, JSON.stringify(caps));
  return file;
}
