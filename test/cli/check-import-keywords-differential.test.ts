// Imports and keywords against the real OPA (`check`): an import of data or input whose last segment is a keyword
// and has no alias is refused, in v1 and v0 (each with its own keywords); and in v0, `import future.keywords.X`
// takes and, not and or too, and lists them when X is none.
import { describe } from 'node:test';
import { itChecksAgree } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const imports = ['data.foo.in', 'data.foo.in as x', 'data.foo.some', 'data.foo.contains', 'data.foo.not', 'data.foo.or', 'input.every', 'data.foo.true', 'data.foo.package', 'data.foo["in"]', 'data.in.foo', 'data.foo["x"]'];
const futureV0 = ['import future.keywords.bad', 'import future.keywords.or\nimport future.keywords.if\n\np if { input.x or input.y }', 'import future.keywords\n\np if { input.x and not input.y }'];

describe('imports ending with a keyword (v1)', sideBySide, () => {
  itChecksAgree(imports, (i) => `package a\n\nimport ${i}\n`);
});

describe('imports ending with a keyword (v0)', sideBySide, () => {
  itChecksAgree(imports, (i) => `package a\n\nimport ${i}\n`, (i) => i, ['--v0-compatible']);
});

describe('future keywords in v0', sideBySide, () => {
  itChecksAgree(futureV0, (m) => `package a\n\n${m}\n`, (m) => m.split('\n')[0]!, ['--v0-compatible']);
});
