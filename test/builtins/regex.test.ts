import { agreesWithOpa } from './differential.js';

agreesWithOpa('regex.* host builtins', [
  { fn: 'regex.replace', args: ['foo bar baz', 'ba(r|z)', '<$1>'] },
  { fn: 'regex.replace', args: ['abc', 'x*', '-'] },
  { fn: 'regex.replace', args: ['aaa', 'a', '$0$$'] },
  { fn: 'regex.replace', args: ['name: x', '(?P<key>\\w+): (?P<v>\\w+)', '${v}=${key}'] },
  { fn: 'regex.replace', args: ['ab', '(a)', '$1x'] },
  { fn: 'regex.replace', args: ['x', '(', 'y'], fails: true },
  { fn: 'regex.find_n', args: ['[a-c]', 'abcabc', 4] },
  { fn: 'regex.find_n', args: ['a*', 'baaac', -1] },
  { fn: 'regex.find_n', args: ['\\p{Greek}+', 'abc αβγ def δ', -1] },
  { fn: 'regex.template_match', args: ['urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}'] },
  { fn: 'regex.template_match', args: ['urn:foo.bar.com:{.*}', 'urn:foo.com:bar:baz', '{', '}'] },
  { fn: 'regex.template_match', args: ['urn:foo:<[0-9]{2}>', 'urn:foo:12', '<', '>'] },
  { fn: 'regex.globs_match', args: ['a.a.[0-9]+z', '.b.b2359825792*594823z'] },
  { fn: 'regex.globs_match', args: ['[a-z]+', '[0-9]*'] },
  { fn: 'regex.globs_match', args: ['[a-z]+', '[0-9]+'] },
  { fn: 'regex.globs_match', args: ['a+b*', 'a*b+'] },
  { fn: 'regex.globs_match', args: ['pqrs]', '[a-b]+'], fails: true },
]);
