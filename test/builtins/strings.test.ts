import { agreesWithOpa } from './differential.js';

agreesWithOpa('strings.* host builtins', [
  { fn: 'strings.any_prefix_match', args: ['foo/bar', 'foo'] },
  { fn: 'strings.any_prefix_match', args: [['a/b', 'c/d'], ['x', 'c/']] },
  { fn: 'strings.any_suffix_match', args: ['file.rego', ['.json', '.rego']] },
  { fn: 'strings.any_suffix_match', args: [[], ['x']] },
  { fn: 'strings.split_n', args: ['a,b,c,d', ',', 2] },
  { fn: 'strings.split_n', args: ['a,b,c,d', ',', -2] },
  { fn: 'strings.split_n', args: ['a,b', ',', 0] },
  { fn: 'strings.split_n', args: ['héllo', '', 3] },
  { fn: 'strings.count', args: ['cheese', 'e'] },
  { fn: 'strings.count', args: ['five', ''] },
  { fn: 'strings.count', args: ['aaaa', 'aa'] },
  { fn: 'indexof_n', args: ['sea shells by the sea shore', 'sea'] },
  { fn: 'indexof_n', args: ['ééaé', 'é'] },
  { fn: 'indexof_n', args: ['aaa', 'aa'] },
  { fn: 'indexof_n', args: ['abc', ''], fails: true },
  { fn: 'strings.render_template', args: ['{{.a}} and {{.b.c}}', { a: 1, b: { c: 'x' } }] },
  { fn: 'strings.render_template', args: ['{{range $i, $v := .xs}}{{if $i}}-{{end}}{{$v}}{{end}}', { xs: ['p', 'q', 'r'] }] },
  { fn: 'strings.render_template', args: ['{{.missing}}!', {}] },
]);
