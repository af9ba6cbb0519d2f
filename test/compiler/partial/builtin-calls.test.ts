// The partial evaluator runs builtins on known arguments through the registry's host implementations, or the wasm
// runtime on its own for those only the runtime answers: they must answer as the reference OPA does, undefined
// where OPA's call is undefined.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { callBuiltin } from '../../../src/compiler/partial/builtin-calls.js';
import { opaAnswers, type Call } from '../../builtins/differential.js';

const calls: Call[] = [
  { fn: 'plus', args: [1, 2.5] }, { fn: 'minus', args: [1, 3] }, { fn: 'mul', args: [4, 0.5] }, { fn: 'div', args: [1, 4] },
  { fn: 'div', args: [1, 0], fails: true }, { fn: 'rem', args: [7, 3] }, { fn: 'rem', args: [7, 0], fails: true },
  { fn: 'rem', args: [7.5, 2], fails: true }, { fn: 'abs', args: [-3] },
  { fn: 'count', args: ['héllo'] }, { fn: 'count', args: [[1, 2, 3]] }, { fn: 'count', args: [{ a: 1 }] },
  { fn: 'sum', args: [[1, 2, 3.5]] }, { fn: 'max', args: [[3, 'a', null]] }, { fn: 'min', args: [[3, 1, 2]] }, { fn: 'max', args: [[]] },
  { fn: 'equal', args: [1, 1.0] }, { fn: 'neq', args: [{ a: [1] }, { a: [1] }] }, { fn: 'lt', args: [null, false] },
  { fn: 'lte', args: ['a', 'b'] }, { fn: 'gt', args: [[1, 2], [1]] }, { fn: 'gte', args: [{ a: 1 }, 'z'] },
  { fn: 'internal.member_2', args: [2, [1, 2]] }, { fn: 'internal.member_2', args: [2, { a: 2 }] },
  { fn: 'internal.member_3', args: [1, 'b', ['a', 'b']] }, { fn: 'internal.member_3', args: ['k', 1, { k: 1 }] },
  { fn: 'startswith', args: ['abc', 'ab'] }, { fn: 'endswith', args: ['abc', 'bc'] }, { fn: 'contains', args: ['abc', 'd'] },
  { fn: 'lower', args: ['ÀB'] }, { fn: 'upper', args: ['àb'] }, { fn: 'concat', args: ['-', ['a', 'b']] },
  { fn: 'split', args: ['a,b,,c', ','] }, { fn: 'trim_space', args: ['  a b \t'] }, { fn: 'indexof', args: ['héllo', 'l'] },
  { fn: 'indexof', args: ['abc', 'z'] }, { fn: 'is_string', args: [1] }, { fn: 'is_string', args: ['x'] }, { fn: 'is_number', args: ['1'] },
  { fn: 'is_null', args: [null] }, { fn: 'is_array', args: [[1]] }, { fn: 'is_array', args: [{}] }, { fn: 'type_name', args: [{ a: 1 }] },
  { fn: 'object.get', args: [{ a: 1 }, 'a', 0] }, { fn: 'object.get', args: [{ a: 1 }, 'b', 0] }, { fn: 'object.keys', args: [{ b: 1, a: 2 }] },
  { fn: 'round', args: [-2.5] }, { fn: 'ceil', args: [-0.5] }, { fn: 'floor', args: [-0.5] }, { fn: 'product', args: [[0.1, 3]] },
  { fn: 'numbers.range', args: [3, 1] }, { fn: 'to_number', args: ['0.1'] }, { fn: 'div', args: [1, 3] }, { fn: 'sort', args: [[3, 1.5, 2]] },
];

it('builtins on known arguments answer as the reference OPA', () => {
  const want = opaAnswers(calls);
  const got = calls.map((c) => {
    const outcome = callBuiltin(c.fn, c.args);
    assert.ok(!('unsupported' in outcome), `${c.fn} has no implementation for the partial evaluator`);
    return outcome.defined ? JSON.parse(JSON.stringify(outcome.value)) : undefined;
  });
  assert.deepEqual(calls.map((c, i) => [c.fn, c.args, got[i]]), calls.map((c, i) => [c.fn, c.args, want[i]]));
});
