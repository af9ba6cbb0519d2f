// Schema annotations: OPA types input and data from an inline schema (`# METADATA` `schemas: - input: {...}`);
// Verdict does not apply JSON schemas, so it refuses such a policy naming the annotation, where it would
// otherwise compile it with the schema ignored. A reference to a schema document (`- input: schema.x`) is
// accepted by both: OPA applies it only with `--schema`, which Verdict refuses.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRego, RegoCompileError } from '../../../src/compiler/compile-rego.js';
import { verdictBuiltins, verdictDeprecated } from '../../../src/compiler/builtins.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'verdict-schema-annotations-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function verdictErrors(source: string) {
  try {
    checkRego([{ path: 'p.rego', source }], { builtins: verdictBuiltins, deprecated: verdictDeprecated });
    return [];
  } catch (err) {
    if (!(err instanceof RegoCompileError)) throw err;
    return err.errors.map((e) => ({ code: e.code, message: e.message, row: e.location?.row }));
  }
}

function opaStatus(source: string): number | null {
  const file = join(dir, 'p.rego');
  writeFileSync(file, source);
  return spawnSync(opa, ['check', file], { encoding: 'utf8' }).status;
}

const INLINE = `package p

# METADATA
# schemas:
#   - input.a: {"type": "string"}
#   - data.d: {"type": "object"}
allow if input.a == "x"
`;

const REFERENCE = `package p

# METADATA
# schemas:
#   - input: schema.request
allow if input.a.b
`;

describe('schema annotations', () => {
  it('an inline schema, which OPA applies, is refused naming each path', () => {
    assert.equal(opaStatus(INLINE), 0, 'OPA accepts the policy: its refs fit the schema');
    const refused = (path: string) => ({ code: 'rego_type_error', message: `schema annotation for ${path}: Verdict does not type-check policies against JSON schemas`, row: 3 });
    assert.deepEqual(verdictErrors(INLINE), [refused('input.a'), refused('data.d')]);
  });

  it('an inline schema on the package is refused too', () => {
    const source = '# METADATA\n# schemas:\n#   - input: {"type": "number"}\npackage p\n\nallow if input > 1\n';
    assert.deepEqual(verdictErrors(source).map((e) => e.message), ['schema annotation for input: Verdict does not type-check policies against JSON schemas']);
  });

  it('a reference to a schema document is accepted, as OPA accepts it without --schema', () => {
    assert.equal(opaStatus(REFERENCE), 0);
    assert.deepEqual(verdictErrors(REFERENCE), []);
  });
});
