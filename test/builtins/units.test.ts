import { agreesWithOpa } from './differential.js';

agreesWithOpa('units.parse and units.parse_bytes', [
  ...['10K', '10Ki', '1.5M', '1.5Mi', '250m', '0.001', '1e3', '1E', '1Ei', '12MI', '1.1.1', 'K', '1 K', '"10"', '2.5e-3k', '1e20', '1e1234567'].map((s) => ({
    fn: 'units.parse',
    args: [s],
  })),
  ...['10KB', '10kib', '1.5MB', '100', '1e3kb', '0.5b', 'gb', '1.25GiB', '3 mb', '9ei'].map((s) => ({ fn: 'units.parse_bytes', args: [s] })),
]);
