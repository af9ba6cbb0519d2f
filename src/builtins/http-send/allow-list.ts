// The outbound hosts http.send may reach (config http_send.allowed_hosts). Entries are a host name or IP
// ("pip.internal", "10.0.0.7", "[::1]"), a suffix wildcard ("*.corp.example": any host under it, not the
// bare domain), each optionally with a port ("pip.internal:8443"). Without an allow-list every host is
// allowed, as in OPA without an allow_net capability. Checked on the URL before connecting and on every
// redirect hop.

interface Entry {
  host: string;
  wildcard: boolean;
  port?: string;
}

export class HostAllowList {
  private readonly entries: Entry[];

  constructor(patterns: readonly string[]) {
    this.entries = patterns.map(parseEntry);
  }

  allows(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return this.entries.some((e) => (e.port === undefined || e.port === port) && (e.wildcard ? host.endsWith(`.${e.host}`) : host === e.host));
  }
}

function parseEntry(pattern: string): Entry {
  const wildcard = pattern.startsWith('*.');
  const rest = wildcard ? pattern.slice(2) : pattern;
  // Parse through URL so IPv6 brackets, case and IDNs are normalised the way request URLs are.
  const url = new URL(`http://${rest}`);
  if (url.pathname !== '/' || url.username || url.search) throw new Error(`http_send.allowed_hosts: "${pattern}" is not a host or host:port`);
  return { host: url.hostname.toLowerCase(), wildcard, port: /:\d+$/.test(rest) ? (url.port || '80') : undefined };
}
