// The adapters of a parsed `pip` section, checked and compiled by their kinds (adapter.ts) without opening
// anything, and the enrich rules checked against the lookup params those adapters need. Start-up validation
// (checkPipConfig) stops here; the Enricher opens the prepared adapters.

import type { PipAdapterKind, PreparedAdapter } from './adapter.js';
import type { PipConfig } from './config.js';
import { PipConfigError } from './errors.js';

export function prepareAdapters(config: PipConfig, kinds: Record<string, PipAdapterKind>): Map<string, PreparedAdapter> {
  const prepared = new Map<string, PreparedAdapter>();
  for (const a of Object.values(config.adapters)) {
    const kind = Object.hasOwn(kinds, a.type) ? kinds[a.type] : undefined;
    if (!kind) throw new PipConfigError(`pip.adapters.${a.name}: no adapter of type "${a.type}"`);
    prepared.set(a.name, kind.prepare(a.name, a.settings, { timeoutMs: a.timeoutMs }));
  }
  config.enrich.forEach((rule, i) => {
    const missing = (prepared.get(rule.adapter)?.requiredParams ?? []).filter((p) => !(p in rule.inputs));
    if (missing.length > 0) throw new PipConfigError(`pip.enrich[${i}]: adapter "${rule.adapter}" needs inputs for ${missing.join(', ')}`);
  });
  return prepared;
}
