// Deeply nested YAML is refused with an error before it is built, never by running out of stack: past a few
// hundred levels the YAML library recursed until the stack ran out, at worst inside V8 (which ends the process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_YAML_DEPTH, parseYamlAsOpa, yamlDocumentsAsOpa } from '../../src/json/yaml.js';
import { yamlBuiltins } from '../../src/builtins/yaml.js';

const host = (name: string) => yamlBuiltins.find((b) => b.name === name)!.host as (text: unknown) => unknown;

const nested = (levels: number, flow: boolean) => (flow ? '['.repeat(levels) + ']'.repeat(levels) : `${'- '.repeat(levels)}1`);

test('documents nested up to the limit are read, deeper ones refused with a message, in flow and block style', () => {
  for (const flow of [true, false]) {
    let value = parseYamlAsOpa(nested(MAX_YAML_DEPTH, flow));
    for (let level = 0; level < MAX_YAML_DEPTH; level++) value = (value as unknown[])[0];
    assert.equal(value, flow ? undefined : 1);
    for (const levels of [MAX_YAML_DEPTH + 1, 5000, 20000]) {
      const text = nested(levels, flow);
      assert.throws(() => parseYamlAsOpa(text), { message: `yaml: exceeded max depth of ${MAX_YAML_DEPTH}` });
      assert.throws(() => yamlDocumentsAsOpa(text), { message: `yaml: exceeded max depth of ${MAX_YAML_DEPTH}` });
      assert.throws(() => host('yaml.unmarshal')(text), { message: `yaml.unmarshal: yaml: exceeded max depth of ${MAX_YAML_DEPTH}` });
      assert.equal(host('yaml.is_valid')(text), false);
    }
  }
});

test('keys and later documents count too', () => {
  const deepKey = `${'{'.repeat(MAX_YAML_DEPTH + 1)}${'}'.repeat(MAX_YAML_DEPTH + 1)}: 1`;
  assert.throws(() => parseYamlAsOpa(deepKey), /exceeded max depth/);
  assert.equal(host('yaml.is_valid')(`a: 1\n---\n${nested(MAX_YAML_DEPTH + 1, false)}`), false);
});
