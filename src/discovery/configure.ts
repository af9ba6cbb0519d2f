// From a discovery bundle to the configuration Verdict runs with, as OPA's discovery plugin does it: evaluate
// the configured document of the bundle, substitute ${ENV} references, merge with the boot configuration
// (the boot configuration wins on every key both set; those keys are reported), keep the boot `discovery`
// section, refuse changes to the discovery service or to boot keys, then check the result like a config file.
import type { Bundle } from '../bundle/bundle.js';
import { normaliseServices } from '../bundle/service.js';
import { substituteEnv, validateConfig, type VerdictConfig } from '../config/config.js';
import type { RegoCompiler } from '../engine/compiler.js';
import { Engine } from '../engine/engine.js';
import { isJsonObject } from '../json/kinds.js';
import { readJson } from '../json/reader.js';
import { writeJson } from '../json/writer.js';
import type { DiscoverySettings } from './config.js';

/** Top-level keys a discovered configuration may change; the rest are read only at start-up. */
export const discoverableKeys = ['bundles', 'status', 'labels', 'services', 'keys', 'decision_logs', 'default_decision', 'discovery'] as const;

export interface DiscoveredConfig {
  config: VerdictConfig;
  /** Keys the discovered configuration set and the boot configuration overrode (dotted paths). */
  overridden: string[];
}

export async function configFromBundle(bundle: Bundle, settings: DiscoverySettings, boot: VerdictConfig, compiler: RegoCompiler): Promise<DiscoveredConfig> {
  const discovered = await evaluateDecision(bundle, settings.decision, compiler);
  // Through the one JSON writer and reader, so a number a double cannot hold keeps its text (and is compared by it).
  const substituted = readJson(substituteEnv(writeJson(discovered))) as Record<string, unknown>;
  const overridden: string[] = [];
  const merged = mergeBootWins(substituted, structuredClone(boot) as Record<string, unknown>, '', overridden);
  merged.discovery = structuredClone(boot.discovery);
  checkImmutable(merged, boot, settings);
  const changed = Object.keys(merged).filter((k) => writeJson(merged[k]) !== writeJson(boot[k]));
  const unsupported = changed.filter((k) => !(discoverableKeys as readonly string[]).includes(k)).sort();
  if (unsupported.length > 0) {
    throw new Error(`the discovered configuration sets ${unsupported.join(', ')}, which Verdict reads only at start-up (discovery may set ${discoverableKeys.filter((k) => k !== 'discovery').join(', ')})`);
  }
  return { config: validateConfig(merged, 'discovered configuration'), overridden };
}

async function evaluateDecision(bundle: Bundle, decision: string[], compiler: RegoCompiler): Promise<Record<string, unknown>> {
  const engine = new Engine(compiler);
  await engine.activate([bundle]);
  const outcome = await engine.evaluate(decision, undefined);
  if (!outcome.defined) throw new Error('undefined configuration');
  const value = outcome.result;
  if (!isJsonObject(value)) throw new Error(`the discovered configuration is not an object: ${writeJson(value)?.slice(0, 80)}`);
  const config = { ...(value as Record<string, unknown>) };
  // The engine publishes its bundles' manifests at data.system.bundles; OPA evaluates the bundle's data alone.
  if (decision.length === 0 && isJsonObject(config.system)) {
    const { bundles: _published, ...system } = config.system as Record<string, unknown>;
    if (Object.keys(system).length === 0) delete config.system;
    else config.system = system;
  }
  return config;
}

/** OPA's merge: values of `boot` win; a key both set to different values is listed in `overridden`. */
function mergeBootWins(dest: Record<string, unknown>, boot: Record<string, unknown>, prefix: string, overridden: string[]): Record<string, unknown> {
  for (const [k, v] of Object.entries(boot)) {
    if (!Object.hasOwn(dest, k)) {
      dest[k] = v;
      continue;
    }
    const key = prefix ? `${prefix}.${k}` : k;
    if (isJsonObject(v) && isJsonObject(dest[k])) {
      dest[k] = mergeBootWins(dest[k] as Record<string, unknown>, v, key, overridden);
      continue;
    }
    if (writeJson(dest[k]) !== writeJson(v)) overridden.push(key);
    dest[k] = v;
  }
  return dest;
}

function checkImmutable(merged: Record<string, unknown>, boot: VerdictConfig, settings: DiscoverySettings): void {
  const service = (config: unknown) =>
    writeJson(normaliseServices((config as VerdictConfig).services as Parameters<typeof normaliseServices>[0]).find((s) => s.name === settings.service.name));
  if (service(merged) !== service(boot)) throw new Error('updates to the discovery service are not allowed');
  const mergedKeys = (merged.keys ?? {}) as Record<string, unknown>;
  for (const [id, key] of Object.entries(boot.keys ?? {})) {
    if (writeJson(mergedKeys[id]) !== writeJson(key)) throw new Error('updates to keys specified in the boot configuration are not allowed');
  }
}
