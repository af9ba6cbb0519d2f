// A .json data file read as `opa eval -d` / `opa run PATH` read one: the JSON reader (exact numbers, Go's
// messages), then OPA's check of what follows the document. OPA's loader decodes one value and asks its decoder
// for one more token: a token that starts a value is refused as "error: invalid character '<token>' after
// top-level value" (the token as Go's %s prints it: the text of a number, a string's contents, `[`, `{`,
// `%!s(bool=true)`), a character that starts none is Go's "looking for beginning of value", and a trailing
// `null` is no token at all, so it is accepted.
import { JsonSyntaxError, readJson, readJsonDocument } from './reader.js';

export function readJsonDataFile(text: string): unknown {
  try {
    return readJson(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    // The document itself is wrong: the reader's message (an empty file is Go's bare "EOF").
    const read = readJsonDocument(text, { trailing: 'ignore' });
    const token = trailingToken(text.slice(read.valueSpan[1]));
    if (token !== undefined) throw new JsonSyntaxError(`error: invalid character '${token}' after top-level value`, read.valueSpan[1]);
    return read.value;
  }
}

/** What Go's Decoder.Token gives for the text after the document, as %s prints it; undefined for `null`. */
function trailingToken(rest: string): string | undefined {
  const opening = /^[ \t\r\n]*([[{])/.exec(rest)?.[1];
  if (opening) return opening;
  // A scalar is read whole (an unterminated string is "unexpected EOF", a stray character Go's own message).
  const { value, valueSpan } = readJsonDocument(rest, { trailing: 'ignore' });
  if (value === null) return undefined;
  if (typeof value === 'boolean') return `%!s(bool=${value})`;
  return typeof value === 'string' ? value : rest.slice(valueSpan[0], valueSpan[1]);
}
