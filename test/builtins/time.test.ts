import { agreesWithOpa } from './differential.js';

// Instants below 2^53 ns keep every digit through JSON, so these compare exactly.
const t = 1_500_000_000_123_456; // 1970-01-18T08:40:00.123456Z
const leap = 951_782_400_000_000_000 / 1000; // a round number of ns near 1970 for day arithmetic

agreesWithOpa('time.* host builtins', [
  { fn: 'time.parse_rfc3339_ns', args: ['2017-06-02T19:00:00-07:00'] },
  { fn: 'time.parse_rfc3339_ns', args: ['1970-01-01T00:00:00.5Z'] },
  { fn: 'time.parse_rfc3339_ns', args: ['2017-13-02T19:00:00Z'], fails: true },
  { fn: 'time.parse_ns', args: ['2006-01-02', '2020-02-29'] },
  { fn: 'time.parse_ns', args: ['2006-01-02', '2021-02-29'], fails: true },
  { fn: 'time.parse_ns', args: ["01/02 03:04:05PM '06 -0700", "06/02 07:00:00PM '17 -0700"] },
  { fn: 'time.parse_ns', args: ['RFC822Z', '02 Jun 17 19:00 -0700'] },
  { fn: 'time.parse_ns', args: ['Jan _2 15:04:05.000', 'Feb  3 04:05:06.789'], fails: true },
  { fn: 'time.parse_ns', args: ['2006-01-02 15:04:05', '2021-10-10 10:10:10.25'] },
  { fn: 'time.parse_ns', args: ['Monday, January 2, 2006', 'friday, MARCH 5, 2021'] },
  { fn: 'time.parse_duration_ns', args: ['1h30m'] },
  { fn: 'time.parse_duration_ns', args: ['-1.5h'] },
  { fn: 'time.parse_duration_ns', args: ['300µs'] },
  { fn: 'time.parse_duration_ns', args: ['2d12h'] },
  { fn: 'time.parse_duration_ns', args: ['1w'] },
  { fn: 'time.parse_duration_ns', args: ['1x'], fails: true },
  { fn: 'time.format', args: [t] },
  { fn: 'time.format', args: [[t, 'Asia/Kolkata']] },
  { fn: 'time.format', args: [[t, 'America/New_York', 'Mon Jan _2 15:04:05.000 -07:00 2006 pm']] },
  { fn: 'time.format', args: [[t, 'UTC', 'RFC1123Z']] },
  { fn: 'time.format', args: [[t, 'Nowhere/City']], fails: true },
  { fn: 'time.date', args: [[t, 'Pacific/Auckland']] },
  { fn: 'time.clock', args: [[t, 'America/Los_Angeles']] },
  { fn: 'time.weekday', args: [t] },
  { fn: 'time.weekday', args: [-86_400_000_000_000] },
  { fn: 'time.add_date', args: [leap, 1, 13, 40] },
  { fn: 'time.add_date', args: [0, -1, -1, -1] },
  { fn: 'time.diff', args: [0, t] },
  { fn: 'time.diff', args: [[t, 'Europe/Paris'], 86_400_000_000_000 * 400] },
]);
