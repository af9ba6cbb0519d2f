import { agreesWithOpa } from './differential.js';

agreesWithOpa('net.cidr_* host builtins', [
  { fn: 'net.cidr_merge', args: [['192.0.2.112/30', '192.0.2.116/31', '192.0.2.118/31']] },
  { fn: 'net.cidr_merge', args: [['192.0.128.0', '192.0.129.0']] },
  { fn: 'net.cidr_merge', args: [['::/0', 'fe80::1/128']] },
  { fn: 'net.cidr_merge', args: [['fe80::/120', '192.0.2.0/24', '192.0.3.0/24', '192.0.4.0/25', '192.0.4.128/25']] },
  { fn: 'net.cidr_merge', args: [['10.0.0.0/8', '10.1.0.0/16', '11.0.0.0/8']] },
  { fn: 'net.cidr_merge', args: [['2001:db8::1']], fails: true },
  { fn: 'net.cidr_merge', args: [['not-a-cidr']], fails: true },
  { fn: 'net.cidr_expand', args: ['192.168.0.0/30'] },
  { fn: 'net.cidr_expand', args: ['2001:db8::/126'] },
  { fn: 'net.cidr_is_valid', args: ['10.0.0.0/33'] },
  { fn: 'net.cidr_is_valid', args: ['10.0.0.0/8'] },
  { fn: 'net.cidr_is_valid', args: ['010.0.0.0/8'] },
  { fn: 'net.cidr_is_valid', args: ['::ffff:1.2.3.4/120'] },
  { fn: 'net.cidr_contains_matches', args: [['10.0.0.0/8', '192.168.0.0/16'], ['10.1.2.3', '192.168.1.1', '8.8.8.8']] },
  { fn: 'net.cidr_contains_matches', args: [{ a: '10.0.0.0/8', b: ['2001:db8::/32', 'x'] }, '2001:db8::1'] },
  { fn: 'net.lookup_ip_addr', args: ['2001:0db8:0000:0000:0000:0000:0000:0001'] },
]);
