// The reference OPA as a parse oracle for tests: `opa parse --format json` per module, results cached in
// .cache/ (keyed by OPA version, Rego version and source) so repeated runs do not start thousands of processes.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegoVersion } from '../../src/compiler/ast.js';
import type { BuiltinInfo } from '../../src/compiler/stages/context.js';

export interface OpaParse {
  ok: boolean;
  /** `opa parse --format json` output: the module AST when ok, {errors: [...]} otherwise. */
  json: unknown;
}

const root = process.cwd();

export function opaPath(): string {
  return execFileSync(join(root, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
}

export function opaModuleDir(): string {
  return execFileSync(join(root, 'scripts/opa-module-dir.sh'), { encoding: 'utf8' }).trim();
}

export class OpaParseOracle {
  private cache: Record<string, OpaParse> = {};
  private readonly cacheFile: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'verdict-opa-parse-'));
  private seq = 0;

  constructor(private readonly opa: string, name: string) {
    const version = readFileSync(join(root, 'scripts/opa-version.txt'), 'utf8').trim();
    mkdirSync(join(root, '.cache'), { recursive: true });
    this.cacheFile = join(root, '.cache', `opa-parse-${name}-${version}.json`);
    if (existsSync(this.cacheFile)) this.cache = JSON.parse(readFileSync(this.cacheFile, 'utf8')) as Record<string, OpaParse>;
  }

  private key(source: string, version: RegoVersion): string {
    return createHash('sha256').update(version).update('\0').update(source).digest('hex');
  }

  /** Parses every module with the reference OPA (two at a time), filling and saving the cache. */
  async parseAll(modules: { source: string; version: RegoVersion }[]): Promise<OpaParse[]> {
    const missing = modules.filter((m) => !(this.key(m.source, m.version) in this.cache));
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const m = missing[next++];
        this.cache[this.key(m.source, m.version)] = await this.run(m.source, m.version);
      }
    };
    await Promise.all([worker(), worker()]);
    if (missing.length > 0) writeFileSync(this.cacheFile, JSON.stringify(this.cache));
    return modules.map((m) => this.cache[this.key(m.source, m.version)]);
  }

  private async run(source: string, version: RegoVersion): Promise<OpaParse> {
    const file = join(this.dir, `m${this.seq++}.rego`);
    writeFileSync(file, source);
    const flags = version === 'v0' ? ['--v0-compatible'] : [];
    try {
      const json = await this.exec(['parse', '--format', 'json', ...flags, file]);
      if (json.ok) return json;
      // A parse error carries a code; anything else is `opa parse` failing to print a module it did parse
      // (its JSON encoder rejects some number literals such as `.0`), so ask for the pretty form instead.
      const errors = (json.json as { errors?: { code?: string }[] }).errors ?? [];
      if (errors.some((e) => e.code === 'rego_parse_error')) return json;
      const pretty = await this.exec(['parse', '--format', 'pretty', ...flags, file]);
      return { ok: pretty.ok, json: json.json };
    } finally {
      rmSync(file, { force: true });
    }
  }

  private exec(args: string[]): Promise<OpaParse> {
    return new Promise((resolve) => {
      execFile(this.opa, args, { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        let json: unknown;
        try {
          // Errors come on stderr, the AST on stdout.
          json = JSON.parse(stdout.trim() || stderr);
        } catch {
          json = { errors: [{ message: (stdout || stderr).slice(0, 500) }] };
        }
        resolve({ ok: !err, json });
      });
    });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Builtins of the pinned OPA's capabilities.json, read in place (for tests only). */
export function opaBuiltins(): (name: string) => BuiltinInfo | undefined {
  const caps = JSON.parse(readFileSync(join(opaModuleDir(), 'capabilities.json'), 'utf8')) as {
    builtins: { name: string; decl: { args?: unknown[]; variadic?: unknown } }[];
  };
  const info = new Map(caps.builtins.map((b) => [b.name, { args: b.decl.args?.length ?? 0, variadic: !!b.decl.variadic }]));
  return (name) => info.get(name);
}
