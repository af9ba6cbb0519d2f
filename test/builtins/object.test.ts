import { agreesWithOpa } from './differential.js';

agreesWithOpa('object.subset, graph.reachable_paths, numbers and glob host builtins', [
  { fn: 'object.subset', args: [{ a: 1, b: { c: [1, 2, 3], d: 4 } }, { b: { c: [2, 3] } }] },
  { fn: 'object.subset', args: [{ a: 1 }, { a: 2 }] },
  { fn: 'object.subset', args: [[1, 2, 3, 4], [2, 3]] },
  { fn: 'object.subset', args: [[1, 2, 3, 4], [2, 4]] },
  { fn: 'object.subset', args: [{ a: [1, 2] }, { a: [] }] },
  { fn: 'graph.reachable_paths', args: [{ a: ['b'], b: ['c', 'd'], c: [], d: ['a'] }, ['a']] },
  { fn: 'graph.reachable_paths', args: [{ a: ['b'], b: [] }, ['a', 'x']] },
  { fn: 'numbers.range_step', args: [0, 10, 3] },
  { fn: 'numbers.range_step', args: [10, 0, 4] },
  { fn: 'numbers.range_step', args: [1, 2, 0], fails: true },
  { fn: 'rand.intn', args: ['k', 0] },
  { fn: 'glob.quote_meta', args: ['*.github.com{a,b}[!x]\\'] },
]);
