// Rego lexer: source text → tokens, all at once, so the parser can backtrack by index.
// Keywords are not decided here (imports of future.keywords change them mid-file); the parser reads idents.
// Template strings ($"a{x}b") are cut into chunks around their expressions: a chunk token ends at `{` or at the
// closing quote, and the `}` closing an expression resumes the template.

export type TokenKind = 'ident' | 'number' | 'string' | 'template' | 'punct' | 'eof' | 'illegal';

export interface Token {
  kind: TokenKind;
  /** ident name, punctuation, number literal, or the raw text of a string or template chunk. */
  text: string;
  /** Decoded value of a string or template chunk. */
  value?: string;
  /** For template chunks: raw (backquoted) form, and whether the chunk closes the template. */
  raw?: boolean;
  last?: boolean;
  offset: number;
  end: number;
  row: number;
  col: number;
  /** Whitespace (or a comment) separates this token from the previous one. */
  ws: boolean;
  /** A newline separates this token from the previous one. */
  nl: boolean;
}

export interface LexComment { text: string; offset: number; row: number; col: number }
export interface LexError { message: string; offset: number; row: number; col: number }

export interface LexResult { tokens: Token[]; comments: LexComment[]; errors: LexError[] }

const PUNCT2 = new Set([':=', '==', '!=', '<=', '>=']);
const PUNCT1 = new Set('[]{}(),:;.+-*/%&|=<>');

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Decodes the body of a "..." literal the way OPA does: verbatim unless it holds an escape, then as JSON. */
export function decodeQuoted(inner: string): string | undefined {
  if (!inner.includes('\\')) return inner;
  try {
    return JSON.parse(`"${inner}"`) as string;
  } catch {
    return undefined;
  }
}

export function lex(src: string): LexResult {
  const tokens: Token[] = [];
  const comments: LexComment[] = [];
  const errors: LexError[] = [];
  let i = 0;
  let row = 1;
  let lineStart = 0;
  // Column in characters (code points), as OPA counts runes; counted on from the last answer on the same line
  // so that long lines stay linear.
  let colLine = 0;
  let colOffset = 0;
  let colValue = 1;
  const colAt = (off: number): number => {
    if (colLine !== lineStart || off < colOffset) {
      colLine = lineStart;
      colOffset = lineStart;
      colValue = 1;
    }
    for (; colOffset < off; colOffset++) {
      const code = src.charCodeAt(colOffset);
      if (code < 0xdc00 || code > 0xdfff) colValue++;
    }
    return colValue;
  };
  // Open template strings: each entry is the brace depth of the expression being lexed inside it.
  const templates: { raw: boolean; depth: number }[] = [];
  let resumeTemplate: boolean | undefined;
  let ws = false;
  let nl = false;

  const push = (kind: TokenKind, start: number, startRow: number, startCol: number, extra?: Partial<Token>) => {
    const token: Token = { kind, text: src.slice(start, i), offset: start, end: i, row: startRow, col: startCol, ws, nl };
    if (extra) Object.assign(token, extra); // only strings and template chunks carry more
    tokens.push(token);
    ws = false;
    nl = false;
  };
  const error = (message: string, off: number, r: number, c: number) => errors.push({ message, offset: off, row: r, col: c });
  // As OPA's parser reports them: a token the scanner had problems with becomes an illegal token, and each
  // problem is an error at the token's start (the parser adds its own "illegal token" where it meets it).
  const illegal = (problems: string[], start: number, startRow: number, startCol: number) => {
    for (const message of problems) error(message, start, startRow, startCol);
    push('illegal', start, startRow, startCol);
  };

  // Scans a template chunk starting at i (just after `$"`, `` $` `` or a closing `}`).
  const templateChunk = (raw: boolean, start: number, startRow: number, startCol: number) => {
    let text = '';
    let closed = false;
    let opened = false;
    const problems: string[] = [];
    const quote = raw ? '`' : '"';
    while (i < src.length) {
      const c = src[i];
      if (!raw && c === '\n') break;
      i++;
      if (c === '\n') { row++; lineStart = i; }
      if (c === quote) { closed = true; break; }
      if (c === '{') { opened = true; break; }
      if (c === '\\') {
        const n = src[i];
        if (n === '{') { text += '{'; i++; continue; }
        if (!raw) {
          if (n !== undefined && '\\"/bfnrtu'.includes(n)) {
            const len = n === 'u' ? 5 : 1;
            text += c + src.slice(i, i + len);
            i += len;
            continue;
          }
          problems.push('illegal escape sequence');
        }
      }
      text += c;
    }
    if (!closed && !opened) problems.push('non-terminated string');
    if (problems.length > 0) {
      illegal(problems, start, startRow, startCol);
      templates.length = 0;
      return;
    }
    const value = raw ? text : decodeQuoted(text);
    if (value === undefined) error(`illegal string literal: ${text}`, start, startRow, startCol);
    push('template', start, startRow, startCol, { value: value ?? text, raw, last: closed });
    if (opened) templates.push({ raw, depth: 0 });
  };

  while (true) {
    if (resumeTemplate !== undefined) {
      const raw = resumeTemplate;
      resumeTemplate = undefined;
      templateChunk(raw, i, row, colAt(i));
      continue;
    }
    // whitespace and comments
    while (i < src.length) {
      const c = src[i];
      if (c === ' ' || c === '\t' || c === '\r') { i++; ws = true; continue; }
      if (c === '\n') { i++; row++; lineStart = i; ws = true; nl = true; continue; }
      if (c === '#') {
        const start = i;
        while (i < src.length && src[i] !== '\n') i++;
        comments.push({ text: src.slice(start + 1, i).replace(/\r$/, ''), offset: start, row, col: colAt(start) });
        ws = true;
        continue;
      }
      break;
    }
    const start = i;
    const startRow = row;
    const startCol = colAt(i);
    if (i >= src.length) {
      // OPA places end of file on the last character read (column 0 after a final newline).
      push('eof', start, startRow, startCol - 1);
      break;
    }
    const c = src[i];
    if (isLetter(c)) {
      while (i < src.length && (isLetter(src[i]) || isDigit(src[i]))) i++;
      push('ident', start, startRow, startCol);
      continue;
    }
    if (isDigit(c)) {
      lexNumber();
      continue;
    }
    if (c === '"') {
      i++;
      let terminated = false;
      const problems: string[] = [];
      while (i < src.length) {
        const ch = src[i];
        if (ch === '\n') break;
        i++;
        if (ch === '"') { terminated = true; break; }
        if (ch === '\\') {
          const n = src[i];
          if (n !== undefined && '\\"/bfnrt'.includes(n)) i++;
          else if (n === 'u') i += 5;
          else problems.push('illegal escape sequence');
        }
      }
      if (!terminated) problems.push('non-terminated string');
      if (problems.length > 0) {
        illegal(problems, start, startRow, startCol);
        continue;
      }
      const inner = src.slice(start + 1, i - 1);
      const value = decodeQuoted(inner);
      if (value === undefined) error(`illegal string literal: ${src.slice(start, i)}`, start, startRow, startCol);
      push('string', start, startRow, startCol, { value: value ?? inner });
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) {
        i = src.length;
        illegal(['non-terminated string'], start, startRow, startCol);
        continue;
      }
      for (let k = i; k < close; k++) if (src[k] === '\n') { row++; lineStart = k + 1; }
      i = close + 1;
      push('string', start, startRow, startCol, { value: src.slice(start + 1, close) });
      continue;
    }
    if (c === '$' && (src[i + 1] === '"' || src[i + 1] === '`')) {
      i += 2;
      templateChunk(src[i - 1] === '`', start, startRow, startCol);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      i += 2;
      push('punct', start, startRow, startCol);
      continue;
    }
    if (PUNCT1.has(c)) {
      i++;
      const open = templates[templates.length - 1];
      if (open) {
        if (c === '{') open.depth++;
        else if (c === '}') {
          if (open.depth === 0) {
            templates.pop();
            push('punct', start, startRow, startCol);
            resumeTemplate = open.raw;
            continue;
          }
          open.depth--;
        }
      }
      push('punct', start, startRow, startCol);
      continue;
    }
    // Anything else is an illegal token (a whole surrogate pair); OPA's scanner explains only these three.
    i += src.codePointAt(i)! > 0xffff ? 2 : 1;
    const message = c === '\u00a0' ? 'illegal non-breaking space character, use a regular space instead'
      : c === '!' ? 'illegal ! character' : c === '$' ? 'illegal $ character' : undefined;
    illegal(message ? [message] : [], start, startRow, startCol);
  }
  return { tokens, comments, errors };

  function lexNumber() {
    const start = i;
    const startRow = row;
    const startCol = colAt(i);
    const problems: string[] = [];
    while (isDigit(src[i] ?? '')) i++;
    if (src[i] === '.') {
      i++;
      const f = i;
      while (isDigit(src[i] ?? '')) i++;
      if (i === f) problems.push('expected fraction');
    }
    if (src[i] === 'e' || src[i] === 'E') {
      i++;
      if (src[i] === '+' || src[i] === '-') i++;
      const e = i;
      while (isDigit(src[i] ?? '')) i++;
      if (i === e) problems.push('expected exponent');
    }
    if (isLetter(src[i] ?? '')) {
      problems.push('illegal number format');
      while (isLetter(src[i] ?? '') || isDigit(src[i] ?? '')) i++;
    }
    if (problems.length > 0) illegal(problems, start, startRow, startCol);
    else push('number', start, startRow, startCol);
  }
}
