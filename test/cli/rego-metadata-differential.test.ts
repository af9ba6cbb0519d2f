// rego.metadata.rule() and rego.metadata.chain() against the real OPA: `check` accepts them (and types them as the
// annotations they answer), `eval` answers them with the annotations in effect for the rule, and a query, which has no
// active rule, leaves them undefined. The server answers the Data and Query APIs with the same bodies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict, writeTree } from '../server/harness.js';
import { itChecksAgree, runBoth, withoutStackTraces as answer } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const policy = `# METADATA
# title: the package
# scope: subpackages
package p

# METADATA
# title: own
# description: with a description
# authors:
# - Jane Doe <jane@example.com>
# related_resources:
# - https://example.com
allow := x if {
  x := rego.metadata.rule()
}

# METADATA
# title: chained
chain := rego.metadata.chain()

plain := rego.metadata.rule()

f(x) := [x, rego.metadata.chain()]

called := f(1)

listed := [m | m := rego.metadata.rule()]
`;

const queries = [
  'data.p',
  'rego.metadata.rule()',
  'x := rego.metadata.chain()',
  'x := [m | m := rego.metadata.rule()]',
  'data.p.allow == rego.metadata.rule()',
];

const checked = [
  'p := rego.metadata.rule()',
  'p := rego.metadata.chain()',
  'p if rego.metadata.chain()[0].path == ["p", "p"]',
  '# METADATA\n# title: T\np := rego.metadata.rule().title',
  'p := count(rego.metadata.chain())',
  '# METADATA\n# title: T\np := rego.metadata.chain()[0].annotations.title',
  // OPA puts the annotations in the calls' place before it checks types: they are typed as the values they are,
  // and operands (which the builtins do not take) are unified with them, the first one only.
  'r := rego.metadata.rule(1)\nc := rego.metadata.chain(1, 2)',
  '# METADATA\n# title: t\nr if {\n  rego.metadata.rule(1)\n}',
  '# METADATA\n# title: t\nr if {\n  rego.metadata.rule(1, 2)\n}',
  '# METADATA\n# title: t\nr if {\n  rego.metadata.rule(x)\n  x.title == 1\n}',
  'r if {\n  rego.metadata.rule(input.x)\n}',
  '# METADATA\n# title: t\nr if rego.metadata.rule() == 1',
  '# METADATA\n# title: t\nr if rego.metadata.rule().a',
  '# METADATA\n# title: t\nr if {\n  x := rego.metadata.chain()[0].annotations.title\n  x == 2\n}',
  'r if rego.metadata.chain()[1]\n\ns := rego.metadata.chain()[0].path[3]',
  'r := [m | m := rego.metadata.rule(); m.nope]',
  'r if {\n  every y in [1] {\n    y\n    rego.metadata.rule(1)\n  }\n}',
];

describe('opa and verdict agree on rego.metadata.rule() and rego.metadata.chain()', sideBySide, () => {
  queries.forEach((query) => {
    it(`eval: ${query}`, async () => {
      const dir = writeTree({ 'p.rego': policy });
      const { theirs, ours } = await runBoth(['eval', '--format', 'json', '-d', 'p.rego', query], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.deepEqual(answer(ours.stdout), answer(theirs.stdout));
    });
  });
  itChecksAgree(checked, (rules) => `package p\n\n${rules}\n`, (rules) => `check: ${rules.replaceAll('\n', '; ')}`);
});

describe('the REST APIs answer rego.metadata.rule() and rego.metadata.chain() as OPA does', () => {
  const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: [''] }), 'p.rego': policy } });

  const same = async (method: string, path: string, body?: string) => {
    const ask = async (base: string) => {
      const r = await send(base, method, path, body, body === undefined ? {} : { 'Content-Type': 'application/json' });
      const answer = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
      delete answer.decision_id;
      return { status: r.status, body: answer };
    };
    const [theirs, ours] = await Promise.all([ask(servers.opa.url), ask(servers.verdict.url)]);
    assert.equal(ours.status, theirs.status);
    assert.deepEqual(ours.body, theirs.body);
  };

  it('GET /v1/data/p', () => same('GET', '/v1/data/p'));
  for (const query of queries.slice(1)) it(`POST /v1/query ${query}`, () => same('POST', '/v1/query', JSON.stringify({ query })));
});
