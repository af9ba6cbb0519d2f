// The configuration's services, bundle downloads, keys and persistence directory as the bundle manager takes
// them: read by the server's bundle plugin (bundle-plugin.ts) and by the start-up check, which loads this
// module without the plugin's (the admin API's router among them).
import { resolve } from 'node:path';
import type { Bundle } from '../bundle/bundle.js';
import { checkDownloads, type BundleManagerOptions } from '../bundle/manager.js';
import type { VerdictConfig } from '../config/config.js';

/** The configuration's services, downloads, keys and persistence directory, as the bundle manager takes them. */
export function downloadSettings(config: VerdictConfig) {
  return {
    services: config.services as BundleManagerOptions<Bundle>['services'],
    serviceOptions: { keys: config.keys },
    bundles: config.bundles as BundleManagerOptions<Bundle>['bundles'],
    keys: configuredKeys(config),
    // OPA's default persistence directory is ./.opa. Only `persist` bundles and uploads use it; without either
    // it is not even read, so uploads made while the admin API was on are not served once it is off.
    persistenceDirectory: config.admin_api || Object.values(config.bundles ?? {}).some((b) => b.persist === true)
      ? resolve(typeof config.persistence_directory === 'string' ? config.persistence_directory : '.opa')
      : undefined,
  };
}

/** Start-up validation: the checks createServerBundles makes of the services and downloads, building nothing. */
export function checkServerBundles(config: VerdictConfig): void {
  checkDownloads(downloadSettings(config));
}

export function configuredKeys(config: VerdictConfig): Record<string, { key: string; algorithm?: string; scope?: string }> {
  const keys: Record<string, { key: string; algorithm?: string; scope?: string }> = {};
  for (const [id, k] of Object.entries(config.keys ?? {})) if (k.key !== undefined) keys[id] = { key: k.key, algorithm: k.algorithm, scope: k.scope };
  return keys;
}
