// Query strings read as Go's net/url reads them (OPA's handlers call r.URL.Query()): pairs are split on `&`
// only, and a pair holding `;` or a malformed %-escape is left out, so `?q=a;b` has no `q` at all there
// (OPA then answers "missing parameter 'q'"), where URLSearchParams would keep it.
export function goQueryParams(raw: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const key = unescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = unescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (key !== undefined && value !== undefined) params.append(key, value);
  }
  return params;
}

/** Go's QueryUnescape: `+` is a space; undefined for a `%` not followed by two hex digits. */
function unescape(text: string): string | undefined {
  if (/%(?![0-9a-fA-F]{2})/.test(text)) return undefined;
  const spaced = text.replace(/\+/g, ' ');
  if (!spaced.includes('%')) return spaced;
  const bytes = Buffer.from(spaced.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return bytes.toString('utf8');
}
