// OPA compiles every module set of its conformance cases (their expected errors all happen at evaluation), so
// our stages must accept every one of them too: no false compile errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Module } from '../../../src/compiler/ast.js';
import { compileModules } from '../../../src/compiler/compile.js';
import { parseModule } from '../../../src/compiler/parse-module.js';
import { opaBuiltins, opaModuleDir } from '../opa-oracle.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return name.endsWith('.yaml') ? [full] : [];
  });
}

for (const version of ['v1', 'v0'] as const) {
  test(`compile stages accept every module set of OPA's ${version} conformance cases`, () => {
    const dir = join(opaModuleDir(), 'v1/test/cases/testdata', version);
    const failures: string[] = [];
    const capabilities = opaBuiltins();
    // OPA's conformance runner registers one extra builtin of its own (test.sleep, used by time/time caching).
    const builtin = (name: string) => (name === 'test.sleep' ? { args: 1 } : capabilities(name));
    let sets = 0;
    for (const file of yamlFiles(dir).sort()) {
      const doc = parseYaml(readFileSync(file, 'utf8')) as { cases?: { note: string; modules?: string[] }[] } | null;
      for (const c of doc?.cases ?? []) {
        if (!c.modules?.length) continue;
        const modules: Module[] = c.modules.map((src, i) => {
          const r = parseModule(`mod${i}.rego`, src, { regoVersion: version });
          assert.deepEqual(r.errors, [], c.note);
          return r.module!;
        });
        sets++;
        const { errors } = compileModules(modules, { builtin });
        if (errors.length > 0) failures.push(`${c.note}: ${errors[0].code} ${errors[0].message} (${errors[0].location.file}:${errors[0].location.row})`);
      }
    }
    console.log(`${version}: ${sets - failures.length}/${sets} module sets compile`);
    for (const f of failures.slice(0, 30)) console.log(`  ${f}`);
    assert.deepEqual(failures, []);
  });
}
