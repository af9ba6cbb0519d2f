// Go's quoting (strconv.Quote, QuoteToASCII, QuoteRune, CanBackquote), which `opa fmt` uses to write the literal
// text of a template string and sprintf's %q to format strings and characters: printable characters (Go's
// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space) as they are, the rest
// escaped as \a \b \f \n \r \t \v, \xNN below the space and for DEL, \uNNNN or \UNNNNNNNN above. Go strings are
// UTF-8, so where a JavaScript string holds a lone surrogate Go holds U+FFFD (its JSON decoder and parser put
// it there), and U+FFFD is printable.

const SHORT: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v' };

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const REPLACEMENT = 0xfffd;

export interface GoQuoteOptions {
  /** The quote character: `"` for strings, `'` for characters. */
  quote?: '"' | "'";
  /** QuoteToASCII (sprintf's %+q): every character beyond ASCII escaped too. */
  asciiOnly?: boolean;
}

/** The quoted string without its surrounding quotes. */
export function goQuoteInner(s: string, { quote = '"', asciiOnly = false }: GoQuoteOptions = {}): string {
  let out = '';
  for (const c of s) out += escapeRune(runeOf(c), quote, asciiOnly);
  return out;
}

/** strconv.Quote (or QuoteToASCII): the string in double quotes. */
export function goQuote(s: string, asciiOnly = false): string {
  return `"${goQuoteInner(s, { asciiOnly })}"`;
}

/** strconv.QuoteRune (or QuoteRuneToASCII): a character in single quotes; a code point no rune has is U+FFFD. */
export function goQuoteRune(codePoint: number | bigint, asciiOnly = false): string {
  const n = Number(codePoint);
  const valid = n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);
  return `'${escapeRune(valid ? n : REPLACEMENT, "'", asciiOnly)}'`;
}

/** The string as a raw string literal (sprintf's %#q), or undefined where strconv.CanBackquote says it cannot be. */
export function goBackquote(s: string): string | undefined {
  let out = '`';
  for (const c of s) {
    const r = runeOf(c);
    if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f || r === 0xfeff) return undefined;
    out += String.fromCodePoint(r);
  }
  return `${out}\``;
}

/** The character as Go holds it: a lone surrogate is U+FFFD. */
function runeOf(c: string): number {
  const cp = c.codePointAt(0)!;
  return cp >= 0xd800 && cp <= 0xdfff ? REPLACEMENT : cp;
}

function escapeRune(r: number, quote: string, asciiOnly: boolean): string {
  const c = String.fromCodePoint(r);
  if (c === quote || c === '\\') return `\\${c}`;
  if ((r < 0x80 || !asciiOnly) && PRINTABLE.test(c)) return c;
  if (SHORT[r]) return SHORT[r];
  if (r < 0x20 || r === 0x7f) return `\\x${hex(r, 2)}`;
  if (r < 0x10000) return `\\u${hex(r, 4)}`;
  return `\\U${hex(r, 8)}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
