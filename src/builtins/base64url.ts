// OPA's base64url decoding (shared by io.jwt.*): missing padding is restored per RFC 7515 appendix C,
// and anything outside the URL alphabet is an error, as Go's base64.URLEncoding reports it.
import { BuiltinError } from './args.js';

export function decodeBase64Url(builtin: string, text: string): Buffer {
  let s = text;
  if (!s.endsWith('=')) {
    const rest = s.length % 4;
    if (rest === 1) throw new BuiltinError(builtin, `illegal base64url string: ${text}`);
    if (rest > 0) s += '='.repeat(4 - rest);
  }
  const body = s.replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9_-]*(={0,2})$/.test(body) || body.length % 4 !== 0) {
    throw new BuiltinError(builtin, `illegal base64 data in ${JSON.stringify(text)}`);
  }
  return Buffer.from(body, 'base64url');
}
