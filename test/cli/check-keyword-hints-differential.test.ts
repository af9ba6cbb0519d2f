// Parse errors that hint at a missing future keyword import, against the real OPA: a body expression followed by
// a plain `in`, `and` or `or`, or by the comma of `k, v in xs`; `some x in xs` and `every x in xs { ... }` without
// the import (v0, where `in` and `every` must be imported); and a var named like a future keyword that is unsafe.
import { describe } from 'node:test';
import { itChecksAgree } from './opa-differential.js';
import { sideBySide } from './command-runs.js';

const v1 = [
  'p if { 1 and 2 }',
  'p if { 1 or 2 }',
  'p if { k, v }',
  'p if { x foo y }',
  'p if { x toString y }',
];

const v0 = [
  'p { x in [1] }',
  'p { x, y in [1] }',
  'p[x] { x in [1] }',
  'p { x, y }',
  'p { some x in [1] }',
  'p { some x in [1]; x in y }',
  'p { some x, y in [1] }',
  'p { some x in }',
  'p { every x in [1] { true } }',
  'p { not every x in [1] { true } }',
  'p { every x in [1] }',
  'p { every }',
  'p { and > 1 }',
  'p { or > 1 }',
  'import future.keywords.in\np { 1 and 2 }',
];

describe('opa and verdict agree on future keyword hints', sideBySide, () => {
  itChecksAgree(v1, (body) => `package p\n\n${body}\n`, (body) => `v1: ${body}`);
  itChecksAgree(v0, (body) => `package p\n\n${body}\n`, (body) => `v0: ${body.replaceAll('\n', '; ')}`, ['--v0-compatible']);
});
