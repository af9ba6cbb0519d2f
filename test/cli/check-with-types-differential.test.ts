// `with` replacing a rule by an object whose keys are variables: the checker merges the rule's type with the
// value's, keeping static keys and the dynamic ones of the first that has them (the rule's where both do), and
// reports what OPA reports from the merged type.
import { describe } from 'node:test';
import { itChecksAgree } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const rules = 'x := {"a": 1}\n\ny[k] := 1 if some k in ["a", "b"]';

const bodies = [
  'k := "a"\n  data.p.x.b == 1 with data.p.x as {k: 2}',
  'k := 1\n  data.p.x.a == "s" with data.p.x as {k: "v"}',
  'k := input.k\n  data.p.x[k] == 1 with data.p.x as {k: {"z": 1}}',
  'k := "q"\n  input.a.b == 1 with input as {k: 2}',
  'k := 1\n  data.p.x[k] == 1 with data.p.x as {k: "v"}',
  'data.p.y.a == "s" with data.p.y as {"b": 2}',
  'k := 2\n  data.p.y.a == "s" with data.p.y as {k: "v"}',
  'k := 2\n  data.p.x.z == "s" with data.p.x as {k: "v"}',
];

describe('opa and verdict agree on rules replaced with objects of variable keys', sideBySide, () => {
  itChecksAgree(bodies, (body) => `package p\n\n${rules}\n\nr if {\n  ${body}\n}\n`, (body) => `check: ${body.replaceAll('\n', '; ')}`);
});
