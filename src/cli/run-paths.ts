// Sorts `verdict run`'s PATH arguments as `opa run` does: with --bundle every path is a bundle; without it
// .tar.gz files are still bundles, http(s) URLs are remote bundles (OPA's shorthand for services.cliN and
// bundles.cliN with persist), and everything else is policy and data files (`prefix:path` allowed).
export interface RunPaths {
  bundles: string[];
  files: string[];
  /** Config overrides for the URL arguments, merged like --set values. */
  remote: Record<string, unknown>;
}

export function sortRunPaths(args: string[], asBundles: boolean): RunPaths {
  const sorted: RunPaths = { bundles: [], files: [], remote: {} };
  const services: Record<string, unknown> = {};
  const bundles: Record<string, unknown> = {};
  for (const arg of args) {
    if (/^https?:\/\//i.test(arg)) {
      const url = new URL(arg);
      const name = `cli${Object.keys(bundles).length + 1}`;
      services[name] = { url: url.origin };
      bundles[name] = { service: name, resource: `${url.pathname}${url.search}`, persist: true };
    } else if (asBundles || arg.endsWith('.tar.gz')) {
      sorted.bundles.push(arg);
    } else {
      sorted.files.push(arg);
    }
  }
  if (Object.keys(bundles).length > 0) sorted.remote = { services, bundles };
  return sorted;
}
