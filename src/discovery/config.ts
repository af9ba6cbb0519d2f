// The `discovery` section of OPA's configuration (docs: management-discovery), checked as OPA's discovery
// plugin checks it: `resource` (or the deprecated `name`/`prefix`) is required, `service` may be left out
// only when exactly one service is configured, and `decision` (default: the whole `data` document) names
// the document of the discovery bundle that holds the configuration.
import { normaliseServices, type ServiceClientOptions, type ServiceConfig } from '../bundle/service.js';
import type { BundleSourceConfig } from '../bundle/download.js';
import { verificationConfigFor, type BundleSigningConfig, type VerificationConfig } from '../bundle/signing.js';
import type { VerdictConfig } from '../config/config.js';

export interface DiscoverySettings {
  service: ServiceConfig;
  /** How the discovery bundle is polled (resource, polling, trigger), as a bundle download. */
  download: BundleSourceConfig;
  /** Segments under `data` of the document to evaluate; [] is the whole `data`. */
  decision: string[];
  /** The discovery bundle's signature requirements; absent: it must be unsigned. */
  signing?: VerificationConfig;
  /** The config's `keys`, for credentials that sign with one (OAuth2 client assertions). */
  serviceKeys?: ServiceClientOptions['keys'];
}

export class DiscoveryConfigError extends Error {
  override name = 'DiscoveryConfigError';
}

interface DiscoverySection {
  service?: string;
  resource?: string;
  name?: string;
  prefix?: string;
  decision?: string;
  polling?: BundleSourceConfig['polling'];
  trigger?: 'periodic' | 'manual';
  signing?: BundleSigningConfig;
  persist?: boolean;
}

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');
const segments = (path: string) => trimSlashes(path).split(/[/.]/).filter((s) => s !== '');

export function discoverySettings(config: VerdictConfig): DiscoverySettings | undefined {
  const section = config.discovery as DiscoverySection | undefined;
  if (section === undefined || section === null) return undefined;
  const fail = (message: string): never => {
    throw new DiscoveryConfigError(`invalid configuration for discovery: ${message}`);
  };
  if (section.persist === true) fail('discovery.persist: persisting the discovery bundle is not supported by Verdict; leave it out (the discovery bundle is downloaded again at start-up)');
  if (section.trigger === 'manual') fail('discovery.trigger: "manual" needs a caller to trigger each download, which `verdict run` does not have; use "periodic"');
  if (section.resource === undefined && section.name === undefined) fail('missing required discovery.resource field');
  const resource = section.resource ?? `${trimSlashes(section.prefix ?? 'bundles')}/${trimSlashes(section.name!)}`;

  const services = normaliseServices(config.services as Parameters<typeof normaliseServices>[0]);
  let service: ServiceConfig | undefined;
  if (!section.service) {
    if (services.length !== 1) fail('discovery.service: more than one service is defined, name the one to use');
    service = services[0];
  } else {
    service = services.find((s) => s.name === section.service);
    if (!service) fail(`discovery.service: service name ${JSON.stringify(section.service)} not found`);
  }

  const keys = Object.fromEntries(Object.entries(config.keys ?? {}).flatMap(([id, k]) => (k.key !== undefined ? [[id, { key: k.key, algorithm: k.algorithm, scope: k.scope }]] : [])));
  let signing: VerificationConfig | undefined;
  try {
    // As OPA: with keys configured and no signing block, the discovery bundle must be signed by one of them.
    signing = verificationConfigFor('discovery', section.signing ?? (Object.keys(keys).length > 0 ? {} : undefined), keys);
  } catch (err) {
    fail((err as Error).message);
  }
  const decision = section.decision ?? section.name;
  return {
    service: service!,
    download: { service: service!.name, resource, polling: section.polling, trigger: section.trigger },
    decision: decision === undefined ? [] : segments(decision),
    signing,
    serviceKeys: config.keys as ServiceClientOptions['keys'],
  };
}
