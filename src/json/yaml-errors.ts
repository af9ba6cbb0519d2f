// A YAML syntax error in the words of Go's YAML decoder, which OPA reports ("yaml: line 1: did not find expected
// ',' or '}'"), for the mistakes people make most: an unclosed flow collection (often JSON cut short), text after
// the document, a mapping value where none may be, a tab as indentation, an unclosed quote. Go numbers lines from 0 for parser
// errors (and its end of stream sits on a line of its own when the text does not end with a line break), from
// 1 for scanner errors, and leaves line 0 out. Other errors keep the YAML reader's own first line.

interface YamlErrorLike {
  name: string;
  code?: string;
  message: string;
  pos?: [number, number];
  linePos?: [{ line: number; col: number }, ...Array<{ line: number; col: number }>];
}

/** The closer of the innermost flow collection open at `offset` (quoted text and comments aside), if any. */
function openFlow(text: string, offset: number): ']' | '}' | undefined {
  const open: string[] = [];
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text[i]!;
    if (c === '[' || c === '{') open.push(c === '[' ? ']' : '}');
    else if ((c === ']' || c === '}') && open.length > 0) open.pop();
    else if ((c === '"' || c === "'") && open.length > 0) {
      const close = text.indexOf(c, i + 1);
      i = close < 0 ? text.length : close;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
    }
  }
  return open.at(-1) as ']' | '}' | undefined;
}

/** Whether the line at `lineStart` is indented as the last line with content before it (a comment is none). */
function startsEntry(text: string, lineStart: number): boolean {
  const indent = (line: string) => /^ */.exec(line)![0].length;
  const own = indent(text.slice(lineStart));
  const earlier = text.slice(0, lineStart).split('\n').filter((line) => !/^\s*(?:#.*)?$/.test(line));
  return earlier.length > 0 && indent(earlier.at(-1)!) === own;
}

/** `text`: the YAML that failed; at its end, Go tells a missing node from a missing separator. */
export function goYamlMessage(err: Error, text: string): string {
  const e = err as YamlErrorLike;
  // Go quotes a scalar it cannot decode whole, line breaks (`!!int |` text) included.
  const own = e.message.startsWith('cannot decode ') ? e.message.replace(/ at line \d+, column \d+:\n[\s\S]*$/, '') : e.message.split('\n')[0]!;
  if (!e.name.startsWith('YAML')) return own;
  // A value JSON cannot carry (.inf, .nan): OPA's JSON encoder refuses it, with no position.
  if (own.startsWith('json: ')) return own.replace(/ at line \d+, column \d+:$/, '');
  // A null mapping key: refused by the JSON conversion after Go's YAML parser, which adds no prefix.
  if (own.startsWith('unsupported map key')) return own;
  // Keys a merge brings that its mapping cannot take: Go lists every one, a line each.
  if (own.startsWith('unmarshal errors:')) return `yaml: ${e.message}`;
  const at = e.linePos?.[0];
  if (!at) return `yaml: ${own}`;
  // Where Go's parser stops: the offending token's line, counted from 0; the end of stream, when the text does
  // not end with a line break, on the line after the last.
  const parserLine = at.line - 1;
  const endLine = at.line - 1 + (at.col > 1 ? 1 : 0);
  const said = (line: number, text: string) => `yaml: ${line > 0 ? `line ${line}: ` : ''}${text}`;
  const unclosed = /^Flow (map|sequence) (?:in block collection )?must/.exec(own);
  if (unclosed && (e.code === 'MISSING_CHAR' || e.code === 'BAD_INDENT')) {
    // Cut short where a node must follow (`[`, `{`, `,`, `:`), Go misses the node rather than the separator.
    if (/[[{,:]\s*$/.test(text)) return said(endLine, 'did not find expected node content');
    return said(endLine, `did not find expected ',' or '${unclosed[1] === 'map' ? '}' : ']'}'`);
  }
  if (e.code === 'UNEXPECTED_TOKEN' && /in YAML stream|at node end/.test(own)) return said(parserLine, 'did not find expected <document start>');
  // Scanner errors: Go counts their lines from 1 but still leaves out the first.
  const scannerLine = at.line > 1 ? at.line : 0;
  // An indicator after a node's anchor or tag (`&a - x`, `&a ? x`, `[!!str |`): in a flow collection Go's parser
  // wants the collection to go on; elsewhere its scanner refuses the indicator.
  const closer = openFlow(text, e.pos?.[0] ?? 0);
  const blockEntry = own.startsWith('Missing newline after block sequence props') || own.startsWith('Unexpected block-seq-ind on same line');
  const keyAfterProps = e.code === 'BAD_PROP_ORDER';
  if (closer && (blockEntry || keyAfterProps)) return `yaml: did not find expected ',' or '${closer}'`;
  if (blockEntry) return said(scannerLine, 'block sequence entries are not allowed in this context');
  if (keyAfterProps) return said(scannerLine, 'mapping keys are not allowed in this context');
  if (e.code === 'MULTIPLE_ANCHORS' || e.code === 'MULTIPLE_TAGS') {
    // Go's parser takes the second anchor or tag for the start of the next node, where its collection wants more.
    if (closer) return `yaml: did not find expected ',' or '${closer}'`;
    const offset = e.pos?.[0] ?? 0;
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const before = text.slice(lineStart, offset);
    const after = /^[^\n]*/.exec(text.slice(offset))![0];
    // Properties where a block collection wants its next key (at its indentation, no `:` on the line) start a
    // simple key Go's scanner then finds no `:` for.
    if (!/^\s*-\s/.test(before) && !/:(?:\s|$)/.test(before + after) && startsEntry(text, lineStart)) return said(at.line, "could not find expected ':'");
    const wanted = /^\s*-\s/.test(before) ? "'-' indicator" : /:(?:\s|$)/.test(before + after) ? 'key' : '<document start>';
    return said(parserLine, `did not find expected ${wanted}`);
  }
  if (closer && own.startsWith('Plain value cannot start with block scalar indicator')) return said(scannerLine, 'found character that cannot start any token');
  if (e.code === 'BLOCK_AS_IMPLICIT_KEY') return said(scannerLine, 'mapping values are not allowed in this context');
  if (e.code === 'TAB_AS_INDENT') return said(scannerLine, 'found character that cannot start any token');
  if (e.code === 'MISSING_CHAR' && own.startsWith('Missing closing')) return said(scannerLine, 'found unexpected end of stream');
  return `yaml: ${own}`;
}
