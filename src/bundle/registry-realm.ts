// Where a registry's Bearer challenge may send the service's credentials. The realm comes from the registry's
// answer, so a hostile or compromised registry could point it at a cloud metadata endpoint or a loopback service
// and have Verdict call it with the service's token. OPA's registry client (oras-go) refuses such realms, and so
// does Verdict, by the same rules: https always, http only when the registry itself is plain http, and a realm
// on another host than the registry's must not be (nor resolve to) a loopback, link-local, unspecified or cloud
// metadata address. A name that does not resolve is let through, as there: the request then fails on its own.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HttpRequestError } from '../net/http-client.js';

const blocked = new BlockList();
for (const [network, prefix] of [['127.0.0.0', 8], ['169.254.0.0', 16], ['224.0.0.0', 24], ['0.0.0.0', 8], ['100.100.100.200', 32], ['168.63.129.16', 32]] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [['::1', 128], ['fe80::', 10], ['ff02::', 16], ['::', 128], ['fd00:ec2::254', 128], ['fd00:ec2::23', 128], ['fd20:ce::254', 128]] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (`::` and a trailing dotted IPv4 part expanded). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parts = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const front = parts(head);
  const back = parts(tail);
  return tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address, which reach that IPv4 host. */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/** Whether an IP address is one a realm must not be (IPv4-mapped IPv6 addresses are matched by the BlockList). */
function isBlocked(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const inner = embeddedIpv4(address);
  return blocked.check(address, 'ipv6') || (inner !== undefined && blocked.check(inner, 'ipv4'));
}

/** Throws (a failed download) when the service's credentials must not be sent to `realm`. */
export async function checkRealm(realm: URL, registry: URL): Promise<void> {
  const named = `registry Bearer realm ${JSON.stringify(realm.href)}`;
  if (realm.protocol === 'http:' && registry.protocol === 'https:') throw new HttpRequestError(`${named} uses http but the registry was contacted over https`);
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new HttpRequestError(`${named} uses unsupported scheme ${JSON.stringify(realm.protocol.replace(/:$/, ''))}`);
  const host = realm.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host.toLowerCase() === registry.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()) return;
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true }).then((found) => found.map((a) => a.address), () => []);
  const bad = addresses.find(isBlocked);
  if (bad !== undefined) throw new HttpRequestError(`${named} is on ${bad}, a loopback, link-local or cloud metadata address, which the service's credentials are not sent to`);
}
