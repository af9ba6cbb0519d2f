// Every module in OPA's conformance cases (read from the pinned OPA module folder, not copied) is parsed by our
// parser and by the reference `opa parse`; the two must agree on whether the module parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RegoVersion } from '../../src/compiler/ast.js';
import { parseModule } from '../../src/compiler/parse-module.js';
import { OpaParseOracle, opaModuleDir, opaPath } from './opa-oracle.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return name.endsWith('.yaml') || name.endsWith('.yml') ? [full] : [];
  });
}

interface CaseModule { file: string; source: string; version: RegoVersion }

function conformanceModules(version: RegoVersion): CaseModule[] {
  const dir = join(opaModuleDir(), 'v1/test/cases/testdata', version);
  const seen = new Set<string>();
  const out: CaseModule[] = [];
  for (const file of yamlFiles(dir).sort()) {
    const doc = parseYaml(readFileSync(file, 'utf8')) as { cases?: { modules?: string[] }[] } | null;
    for (const c of doc?.cases ?? []) {
      for (const source of c.modules ?? []) {
        if (typeof source !== 'string' || seen.has(source)) continue;
        seen.add(source);
        out.push({ file: file.slice(dir.length + 1), source, version });
      }
    }
  }
  return out;
}

for (const version of ['v1', 'v0'] as const) {
  test(`parse success/failure agrees with opa parse on OPA's ${version} conformance modules`, { timeout: 900_000 }, async () => {
    const modules = conformanceModules(version);
    assert.ok(modules.length > 500, `expected the ${version} conformance modules, found ${modules.length}`);
    const oracle = new OpaParseOracle(opaPath(), 'conformance');
    try {
      const reference = await oracle.parseAll(modules);
      const disagreements: string[] = [];
      let opaFailures = 0;
      modules.forEach((m, i) => {
        const ours = parseModule('x.rego', m.source, { regoVersion: version });
        for (const e of ours.errors) {
          assert.equal(e.code, 'rego_parse_error');
          assert.ok(e.location.row >= 0 && e.location.col >= 0);
        }
        if (!reference[i].ok) opaFailures++;
        if ((ours.errors.length === 0) !== reference[i].ok) {
          const opaMsg = JSON.stringify((reference[i].json as { errors?: { message: string }[] })?.errors?.[0]?.message ?? '');
          disagreements.push(`${m.file}: opa ${reference[i].ok ? 'ok' : `fails ${opaMsg}`}, ours ${ours.errors.length === 0 ? 'ok' : `fails ${JSON.stringify(ours.errors[0].message)} at ${ours.errors[0].location.row}:${ours.errors[0].location.col}`}`);
        }
      });
      const agree = modules.length - disagreements.length;
      console.log(`${version}: ${agree}/${modules.length} modules agree (${((100 * agree) / modules.length).toFixed(2)}%); OPA rejects ${opaFailures}`);
      for (const d of disagreements.slice(0, 40)) console.log(`  ${d}`);
      assert.deepEqual(disagreements, []);
    } finally {
      oracle.close();
    }
  });
}
