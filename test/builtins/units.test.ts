import { agreesWithOpa } from './differential.js';

const quantity = (s: string, fails?: true) => ({ fn: 'units.parse', args: [s], fails });
const bytes = (s: string, fails?: true) => ({ fn: 'units.parse_bytes', args: [s], fails });

agreesWithOpa('units.parse and units.parse_bytes', [
  ...['10K', '10Ki', '1.5M', '1.5Mi', '250m', '0.001', '1e3', '1E', '1Ei', '12MI', '"10"', '2.5e-3k', '1e20'].map((s) => quantity(s)),
  ...['1.1.1', 'K', '1 K', '1e1234567'].map((s) => quantity(s, true)),
  ...['10KB', '10kib', '1.5MB', '100', '1e3kb', '1.25GiB', '9ei'].map((s) => bytes(s)),
  ...['0.5b', 'gb', '3 mb'].map((s) => bytes(s, true)),
]);
