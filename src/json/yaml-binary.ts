// `!!binary` scalars as Go's YAML decoder reads them: standard base64 (padding required, line breaks skipped,
// any other blank refused) decoded to a Go string of the bytes, which the JSON conversion then writes with every
// byte that starts no valid UTF-8 sequence as U+FFFD, one per byte.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of Go's base64.StdEncoding.DecodeString(text), or undefined where Go refuses the text. */
export function goBase64(text: string): Buffer | undefined {
  const packed = text.replace(/[\r\n]/g, '');
  return BASE64.test(packed) ? Buffer.from(packed, 'base64') : undefined;
}

/** Whether bytes[i] is a UTF-8 continuation byte within [low, high]. */
const within = (bytes: Uint8Array, i: number, low = 0x80, high = 0xbf) => i < bytes.length && bytes[i]! >= low && bytes[i]! <= high;

/** Length of the valid UTF-8 sequence at bytes[i] (Go's rules: no overlong forms, surrogates or code points past U+10FFFF), 0 if none. */
function sequenceAt(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return within(bytes, i + 1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const [low, high] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return within(bytes, i + 1, low, high) && within(bytes, i + 2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const [low, high] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return within(bytes, i + 1, low, high) && within(bytes, i + 2) && within(bytes, i + 3) ? 4 : 0;
  }
  return 0;
}

/** A Go string of `bytes` as Go's JSON encoder writes it: each byte outside a valid UTF-8 sequence is U+FFFD. */
export function goBytesText(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    let end = i;
    for (let n: number; end < bytes.length && (n = sequenceAt(bytes, end)) > 0; ) end += n;
    if (end > i) out += Buffer.from(bytes.subarray(i, end)).toString('utf8');
    if (end < bytes.length) {
      out += '\ufffd';
      end++;
    }
    i = end;
  }
  return out;
}
