// http.send: calling out from a policy needs the PIP layer's HTTP client, caching and limits.
import type { HostBuiltinTable } from './args.js';

export const httpBuiltins: HostBuiltinTable = {
  'http.send': () => {
    throw new Error('http.send: not supported yet by Verdict (planned with the PIP adapters)');
  },
};
