// How Go's YAML parser goes on after a `?` with no key in a flow sequence, where the YAML reader (which reads
// the entry as a pair with an empty key) and Go part ways. Go's parser takes the token after the `?` (a `:`, `,`
// or `]`) for the empty key and drops it; its scanner has still counted that `]` as closing a flow collection,
// so what follows is scanned one flow level out (`1 ]` after it can be a plain scalar, brackets and all) while
// the parser still waits for the sequence to end. This follows Go from there, over the tokens such texts hold
// (brackets, commas, scalars), to the error Go meets.

/** 0-based line of an offset, as Go's parser counts. */
export const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length - 1;

/** Go's line of a token's start; the end of stream sits on a line of its own when the text does not end with one. */
export const tokenLine = (text: string, offset: number) => lineAt(text, offset) + (offset >= text.length && text.length > 0 && !text.endsWith('\n') ? 1 : 0);

/** Offset of the next token at or after `from`, past blanks, line breaks and comments; the text's length at its end. */
export function nextTokenAt(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) while (i < text.length && text[i] !== '\n') i++;
    else break;
  }
  return i;
}

interface Token {
  kind: '[' | ']' | '{' | ',' | '?' | ':' | 'scalar' | 'end' | 'other';
  at: number;
  next: number;
}

const blankOrEnd = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Where a plain scalar starting at `at` ends, as Go's scanner ends it in or out of a flow collection. */
function plainEnd(text: string, at: number, inFlow: boolean): number {
  let i = at;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n' || c === '\r') break;
    if (c === '#' && /\s/.test(text[i - 1] ?? ' ')) break;
    if (c === ':' && (blankOrEnd(text[i + 1]) || (inFlow && ',[]{}'.includes(text[i + 1]!)))) break;
    if (inFlow && ',[]{}'.includes(c)) break;
    i++;
  }
  return text.slice(at, i).trimEnd().length + at;
}

/** The token Go's scanner finds at or after `from`, `level` flow collections deep; `other` for what this does not follow. */
function goToken(text: string, from: number, level: number): Token {
  const at = nextTokenAt(text, from);
  const c = text[at];
  if (c === undefined) return { kind: 'end', at, next: at };
  if (c === '[' || c === ']' || c === '{' || c === ',') return { kind: c, at, next: at + 1 };
  if ((c === '?' || c === ':') && (level > 0 || blankOrEnd(text[at + 1]))) return { kind: c, at, next: at + 1 };
  if (c === '"' || c === "'") {
    const close = text.indexOf(c, at + 1);
    return close < 0 || text.slice(at + 1, close).includes('\\') ? { kind: 'other', at, next: at } : { kind: 'scalar', at, next: close + 1 };
  }
  if ('}&*!|>%@`#-'.includes(c)) return { kind: 'other', at, next: at };
  return { kind: 'scalar', at, next: plainEnd(text, at, level > 0) };
}

export interface GoFlowFailure {
  at: number;
  /** Go's words, with the line it names. */
  message: string;
}

/** A flow sequence Go's parser reads to its end, with a null key for each `?` that has none. */
export interface GoFlowParsed {
  /** Where the outermost sequence followed ends. */
  end: number;
  /** The text of the value Go gives the first such key, or undefined for none (null). */
  value?: [number, number];
}

/** Where a value node starting with token `t` ends, for a scalar or a flow sequence of scalars; undefined otherwise. */
function valueEnd(text: string, t: Token, level: number): number | undefined {
  if (t.kind === 'scalar') return goToken(text, t.next, level).kind === ':' ? undefined : t.next;
  if (t.kind !== '[') return undefined;
  let depth = 0;
  for (let u = t; ; u = goToken(text, u.next, level)) {
    if (u.kind === '[') {
      depth++;
      level++;
    } else if (u.kind === ']') {
      depth--;
      level--;
      if (depth === 0) return u.next;
    } else if (u.kind === 'scalar') {
      if (goToken(text, u.next, level).kind === ':') return undefined;
    } else if (u.kind !== ',') return undefined;
  }
}

/**
 * The rest of a flow sequence entry after its `?`, as Go's parser reads it: the token after the `?` taken for the
 * key and dropped (a `]` among them still closes a flow level for the scanner), then an optional `:` and value.
 * Returns where the entry ends, the value's text and the scanner's flow level, or undefined where this cannot follow.
 */
function questionEntry(text: string, keyAt: number, level: number): { at: number; level: number; value?: [number, number] } | undefined {
  const taken = goToken(text, keyAt, level);
  if (taken.kind === ']') level--;
  else if (taken.kind !== ',' && taken.kind !== ':') return undefined;
  let at = taken.next;
  const colon = goToken(text, at, level);
  if (colon.kind !== ':') return { at, level };
  at = colon.next;
  const node = goToken(text, at, level);
  if (node.kind === ',' || node.kind === ']') return { at, level };
  const end = valueEnd(text, node, level);
  return end === undefined ? undefined : { at: end, level, value: [node.at, end] };
}

/**
 * How Go's parser reads a flow sequence holding a `?` with no key: an error, the sequence read to its end (Go
 * makes the entry a mapping with a null key, which its JSON conversion then refuses), or undefined where this
 * cannot follow it (a flow map, a key, a block collection, an anchor or a tag after it). `keyAt`: where the YAML
 * reader puts the empty key; `sequences`: the starts of the flow sequences nested around it, innermost first;
 * `outerFlow`: how many flow collections enclose the outermost of those; `root`: whether that one is the document.
 */
export function questionInFlowSequence(text: string, keyAt: number, sequences: number[], outerFlow: number, root: boolean): GoFlowFailure | GoFlowParsed | undefined {
  const said = (line: number, words: string) => (line > 0 ? `line ${line}: ${words}` : words);
  const open = [...sequences].reverse();
  const first = questionEntry(text, keyAt, open.length + outerFlow);
  if (!first) return undefined;
  let { at, level } = first;
  // After a node, a `]` ends the innermost open sequence and a `,` comes before the next node.
  for (;;) {
    let t = goToken(text, at, level);
    if (t.kind !== ']' && t.kind !== ',') {
      return { at: t.at, message: said(lineAt(text, open[open.length - 1]!) || tokenLine(text, t.at), "did not find expected ',' or ']'") };
    }
    if (t.kind === ',') t = goToken(text, t.next, level);
    // A node, opening sequences as it goes.
    while (t.kind === '[') {
      open.push(t.at);
      level++;
      t = goToken(text, t.next, level);
    }
    if (t.kind === ']') {
      level = Math.max(level - 1, 0);
      open.pop();
      at = t.next;
      if (open.length > 0) continue;
      if (!root || outerFlow > 0) return { end: at, value: first.value };
      const after = goToken(text, at, level);
      const documentMark = /^(?:---|\.\.\.)(?:[ \t\r\n]|$)/.test(text.slice(after.at)) && (after.at === 0 || text[after.at - 1] === '\n');
      if (after.kind === 'end' || documentMark) return { end: at, value: first.value };
      return { at: after.at, message: said(tokenLine(text, after.at), 'did not find expected <document start>') };
    }
    if (t.kind === 'scalar') {
      at = t.next;
      if (goToken(text, at, level).kind === ':') return undefined;
      continue;
    }
    if (t.kind === '?') {
      const entry = questionEntry(text, t.next, level);
      if (!entry) return undefined;
      ({ at, level } = entry);
      continue;
    }
    if (t.kind === 'other' || t.kind === '{') return undefined;
    return { at: t.at, message: said(tokenLine(text, t.at), 'did not find expected node content') };
  }
}
