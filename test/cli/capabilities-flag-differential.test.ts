// `--capabilities FILE` of check, eval, test and build against the real OPA: capabilities documents made at test
// time from `opa capabilities --current`, each with something taken away (a builtin, a feature, the future
// keywords), and policies that need what was taken. Both must answer alike: exit code, stdout and stderr.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { referenceOpa } from '../engine/opa-fixture.js';
import { writeTree } from '../server/harness.js';
import { runBoth, withoutStackTraces } from './opa-differential.js';
import { runVerdict, sideBySide } from './command-runs.js';
import { verdictVersion } from '../../src/version.js';

interface Doc {
  builtins: Array<{ name: string }>;
  future_keywords?: string[];
  features?: string[];
}

const current = JSON.parse(execFileSync(referenceOpa(), ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Doc;
const features = current.features ?? [];
const variant = (change: Partial<Doc>) => JSON.stringify({ ...current, ...change });

const dir = writeTree({
  'current.json': JSON.stringify(current),
  'no-upper.json': variant({ builtins: current.builtins.filter((b) => b.name !== 'upper') }),
  'any-not-deprecated.json': variant({ builtins: current.builtins.map((b) => (b.name === 'any' ? { ...b, deprecated: undefined } : b)) }),
  'no-rego-v1.json': variant({ features: features.filter((f) => f !== 'rego_v1') }),
  'no-features.json': variant({ features: [] }),
  'no-template-strings.json': variant({ features: features.filter((f) => f !== 'template_strings') }),
  'no-keywords-in-refs.json': variant({ features: features.filter((f) => f !== 'keywords_in_refs') }),
  'no-net.json': variant({ allow_net: [] } as Partial<Doc>),
  'loopback.json': variant({ allow_net: ['127.0.0.1'] } as Partial<Doc>),
  'rego-v1-import.json': variant({ features: ['rego_v1_import'] }),
  'string-prefix-heads.json': variant({ features: ['rule_head_ref_string_prefixes'] }),
  'general-ref-heads.json': variant({ features: ['rule_head_refs'] }),
  'no-future-keywords.json': variant({ future_keywords: [] }),
  'unknown-keyword.json': variant({ future_keywords: ['foo'] }),
  'not-json.json': '{',
  'upper.rego': 'package p\n\nx := upper("a")\n',
  'any.rego': 'package a\n\nx := any([true])\n',
  'upper_test.rego': 'package p\n\ntest_x if x == "A"\n',
  'keyword-ref.rego': 'package k\n\nx if { input.if == 1 }\n',
  'template.rego': 'package t\n\nx := $"a{1}"\n',
  'import-not.rego': 'package n\n\nimport future.keywords.not\n\nx := 1\n',
  'v0/plain.rego': 'package v\n\nx = 1\n',
  'v0/rego-v1.rego': 'package v\n\nimport rego.v1\n\ny if true\n',
  'v0/heads.rego': 'package h\n\na.b.c = 1\n\nd.e[x] { x := "k" }\n\nf[x][y] = 1 { x := 1; y := 2 }\n\ng[x] { x := 1 }\n',
  'v0/in.rego': 'package w\n\nimport future.keywords.in\n\nx = 1\n',
});

/** Both print the same, on both streams, and exit alike. */
async function assertAgree(argv: string[]): Promise<void> {
  const { theirs, ours } = await runBoth(argv, dir);
  assert.equal(ours.status, theirs.status, ours.stderr);
  assert.equal(ours.stdout, theirs.stdout);
  assert.equal(ours.stderr, theirs.stderr);
}

/** `check --format json`: the same errors (OPA's stack traces aside) and exit code. */
async function assertChecksAgree(argv: string[]): Promise<void> {
  const { theirs, ours } = await runBoth(['check', '--format', 'json', ...argv], dir);
  assert.equal(ours.status, theirs.status, ours.stderr);
  assert.deepEqual(withoutStackTraces(ours.stderr || '{}'), withoutStackTraces(theirs.stderr || '{}'));
}

describe('--capabilities: a builtin the document lacks is an undefined function', sideBySide, () => {
  it('check', () => assertAgree(['check', '--capabilities', 'no-upper.json', 'upper.rego']));
  it('check --format json', () => assertChecksAgree(['--capabilities', 'no-upper.json', 'upper.rego']));
  it('eval, in a module', () => assertAgree(['eval', '--capabilities', 'no-upper.json', '-d', 'upper.rego', 'data.p.x']));
  it('eval, in the query', () => assertAgree(['eval', '--capabilities', 'no-upper.json', 'upper("a")']));
  it('eval --format pretty', () => assertAgree(['eval', '-f', 'pretty', '--capabilities', 'no-upper.json', '-d', 'upper.rego', 'data.p.x']));
  it('test', () => assertAgree(['test', '--capabilities', 'no-upper.json', 'upper.rego', 'upper_test.rego']));
  it('a builtin the document marks deprecated may not be called from v1', () => assertAgree(['check', '--capabilities', 'current.json', 'any.rego']));
  it('one it does not mark deprecated may', () => assertAgree(['check', '--capabilities', 'any-not-deprecated.json', 'any.rego']));
  it('the whole document: everything passes', () => assertAgree(['test', '--capabilities', 'current.json', 'upper.rego', 'upper_test.rego']));
  it('eval with the whole document', () => assertAgree(['eval', '--capabilities', 'current.json', '-d', 'upper.rego', 'data.p.x']));
});

describe('--capabilities: features', sideBySide, () => {
  it('v1 modules need rego_v1 (check)', () => assertAgree(['check', '--capabilities', 'no-rego-v1.json', 'upper.rego']));
  it('a document with no features (check --format json)', () => assertChecksAgree(['--capabilities', 'no-features.json', 'upper.rego']));
  it('v1 modules need rego_v1 (eval, module)', () => assertAgree(['eval', '--capabilities', 'no-rego-v1.json', '-d', 'upper.rego', 'data.p.x']));
  it('v1 queries need rego_v1 (eval)', () => assertAgree(['eval', '--capabilities', 'no-rego-v1.json', 'x := 1']));
  it('v1 modules need rego_v1 (test, one error per file)', () => assertAgree(['test', '--capabilities', 'no-rego-v1.json', 'upper.rego', 'upper_test.rego']));
  it('v0 modules need no features', () => assertAgree(['check', '--v0-compatible', '--capabilities', 'no-features.json', 'v0/plain.rego']));
  it('v0 modules and queries need no features (eval)', () => assertAgree(['eval', '--v0-compatible', '--capabilities', 'no-features.json', '-d', 'v0/plain.rego', 'data.v.x']));
  it('import rego.v1 needs rego_v1 or rego_v1_import', () => assertAgree(['check', '--v0-compatible', '--capabilities', 'no-features.json', 'v0/rego-v1.rego']));
  it('rego_v1_import allows import rego.v1', () => assertAgree(['check', '--v0-compatible', '--capabilities', 'rego-v1-import.json', 'v0/rego-v1.rego']));
  it('template strings need template_strings', () => assertAgree(['check', '--capabilities', 'no-template-strings.json', 'template.rego']));
  it('template strings with it', () => assertAgree(['eval', '--capabilities', 'current.json', '-d', 'template.rego', 'data.t.x']));
  it('template strings in a query', () => assertAgree(['eval', '--capabilities', 'no-template-strings.json', '$"a{1}"']));
  it('a keyword after a dot needs keywords_in_refs (module)', () => assertAgree(['check', '--capabilities', 'no-keywords-in-refs.json', 'keyword-ref.rego']));
  it('a keyword after a dot needs keywords_in_refs (query)', () => assertAgree(['eval', '--capabilities', 'no-keywords-in-refs.json', 'input.in']));
  it('a keyword after a dot with keywords_in_refs', () => assertAgree(['check', '--capabilities', 'current.json', 'keyword-ref.rego']));
});

describe('--capabilities: ref rule heads in v0 modules', sideBySide, () => {
  for (const caps of ['no-features.json', 'string-prefix-heads.json', 'general-ref-heads.json', 'no-rego-v1.json']) {
    it(caps, () => assertAgree(['check', '--v0-compatible', '--capabilities', caps, 'v0/heads.rego']));
  }
});

describe('--capabilities: future keywords', sideBySide, () => {
  it('an unknown keyword makes the document illegal', () => assertAgree(['check', '--capabilities', 'unknown-keyword.json', 'upper.rego']));
  it('v1: future.keywords.not needs "not" listed', () => assertAgree(['check', '--capabilities', 'no-future-keywords.json', 'import-not.rego']));
  it('v0: future.keywords.in needs "in" listed or rego_v1', () => assertAgree(['check', '--v0-compatible', '--capabilities', 'rego-v1-import.json', 'v0/in.rego']));
  it('v0: rego_v1 brings the v0 future keywords', () => assertAgree(['check', '--v0-compatible', '--capabilities', 'no-future-keywords.json', 'v0/in.rego']));
});

describe('--capabilities: allow_net (eval)', sideBySide, () => {
  /** `eval --strict-builtin-errors`: the same JSON (OPA's stack traces aside) and exit code. */
  async function assertEvalsAgree(caps: string, query: string): Promise<void> {
    const { theirs, ours } = await runBoth(['eval', '--strict-builtin-errors', '--capabilities', caps, query], dir);
    assert.equal(ours.status, theirs.status, ours.stdout);
    assert.deepEqual(withoutStackTraces(ours.stdout), withoutStackTraces(theirs.stdout));
  }
  it('http.send to a host not listed', () => assertEvalsAgree('no-net.json', 'http.send({"method": "get", "url": "http://example.invalid:8080/x"})'));
  it('net.lookup_ip_addr of a name not listed', () => assertEvalsAgree('loopback.json', 'net.lookup_ip_addr("localhost")'));
  it('net.lookup_ip_addr of a listed address', () => assertEvalsAgree('loopback.json', 'net.lookup_ip_addr("127.0.0.1")'));
});

describe('--capabilities: build', sideBySide, () => {
  for (const [title, caps] of [['a builtin the document lacks', 'no-upper.json'], ['v1 without rego_v1', 'no-rego-v1.json']] as const) {
    it(title, async () => {
      const { theirs, ours } = await runBoth(['build', '-o', `${caps}.tar.gz`, '--capabilities', caps, 'upper.rego'], dir);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.match(theirs.stdout, /^error: /);
      assert.equal(ours.stdout, theirs.stdout);
      assert.equal(ours.stderr, theirs.stderr);
    });
  }
  it('the whole document builds', async () => {
    const { theirs, ours } = await runBoth(['build', '-o', 'whole.tar.gz', '--capabilities', 'current.json', 'upper.rego'], dir);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours.status, 0, ours.stderr);
  });
});

describe('--capabilities: a value that is not a capabilities file', sideBySide, () => {
  // OPA refuses the flag's value with its usage text; Verdict with a message naming the value and the problem.
  const cases: Array<[string, string, RegExp]> = [
    ['a missing file', 'missing.json', /--capabilities missing\.json: cannot read capabilities file missing\.json/],
    ['a file that is not JSON', 'not-json.json', /--capabilities not-json\.json: capabilities file not-json\.json is not JSON/],
  ];
  for (const command of [['check', 'upper.rego'], ['eval', '-d', 'upper.rego', 'data.p.x'], ['test', 'upper.rego'], ['build', '-o', 'x.tar.gz', 'upper.rego']]) {
    for (const [title, value, message] of cases) {
      it(`${command[0]}: ${title}`, async () => {
        const { theirs, ours } = await runBoth([command[0]!, '--capabilities', value, ...command.slice(1)], dir);
        assert.equal(ours.status, theirs.status, ours.stderr);
        assert.match(theirs.stderr, new RegExp(`invalid argument "${value.replace(/\./g, '\\.')}" for "--capabilities" flag`));
        assert.match(ours.stderr, message);
      });
    }
    // OPA reads the capabilities of its past versions from its own history, which Verdict does not ship: it
    // refuses the name, with the command that writes that version's file.
    it(`${command[0]}: an OPA version is refused, naming the way to its file`, async () => {
      const { theirs, ours } = await runBoth([command[0]!, '--capabilities', 'v0.60.0', ...command.slice(1)], dir);
      assert.doesNotMatch(theirs.stderr, /invalid argument/);
      assert.equal(ours.status, 1);
      assert.match(ours.stderr, /--capabilities v0\.60\.0: .*`opa capabilities --version v0\.60\.0 > caps\.json`/);
    });
  }
});

describe('--capabilities and verdict capabilities agree', () => {
  it("Verdict's own document, printed or named by its version, changes nothing", async () => {
    const printed = await runVerdict(['capabilities', '--current'], { cwd: dir });
    assert.equal(printed.status, 0, printed.stderr);
    const ownFile = writeTree({ 'verdict.json': printed.stdout });
    for (const caps of [`${ownFile}/verdict.json`, `v${verdictVersion}`]) {
      for (const argv of [['check', 'upper.rego', 'template.rego', 'keyword-ref.rego'], ['test', 'upper.rego', 'upper_test.rego'], ['eval', '-d', 'template.rego', 'data.t.x']]) {
        const plain = await runVerdict(argv, { cwd: dir });
        const given = await runVerdict([argv[0]!, '--capabilities', caps, ...argv.slice(1)], { cwd: dir });
        assert.deepEqual(given, plain, `${argv.join(' ')} --capabilities ${caps}`);
      }
    }
  });
});
