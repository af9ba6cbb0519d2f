// Go's strconv.Quote, which `opa fmt` uses to write the literal text of a template string: printable characters
// (Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space) as they are, the rest
// escaped as \a \b \f \n \r \t \v, \xNN below the space and for DEL, \uNNNN or \UNNNNNNNN above.

const SHORT: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"',
};

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** The quoted string without its surrounding quotes. */
export function goQuoteInner(s: string): string {
  let out = '';
  for (const c of s) {
    if (SHORT[c]) out += SHORT[c];
    else if (PRINTABLE.test(c)) out += c;
    else {
      const cp = c.codePointAt(0)!;
      if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
      else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
      else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
      else out += `\\U${hex(cp, 8)}`;
    }
  }
  return out;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
