// `verdict capabilities [--current | --version VERSION | --file FILE]`, as `opa capabilities`: prints Verdict's
// builtins (with their declarations), wasm ABI versions, future keywords and features as JSON in OPA's shape.
// Without a flag it lists the versions it can print. As in OPA, --current wins over --version, which wins over
// --file; a file is printed as it was read.
import { parseArgs } from 'node:util';
import { CapabilitiesError, capabilitiesOfVersion, capabilityVersions, readCapabilitiesFile, verdictCapabilities, type Capabilities } from '../builtins/capabilities.js';

export const capabilitiesUsage = 'verdict capabilities [--current | --version VERSION | --file FILE]';

const HELP = `usage: ${capabilitiesUsage}

Prints the capabilities of Verdict (builtins with their argument and result types, deprecated flags, wasm ABI
versions, future keywords, features) in the JSON shape of \`opa capabilities\`.

  --current          the capabilities of this Verdict
  --version VERSION  the capabilities of a Verdict version (only the current one is known)
  --file FILE        the capabilities defined by a file
  -h, --help         this help`;

export async function capabilitiesCommand(args: string[]): Promise<number> {
  let values: { current?: boolean; version?: string; file?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { current: { type: 'boolean' }, version: { type: 'string' }, file: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // Exit code 1 for a bad flag, as opa capabilities.
    console.error(`verdict capabilities: ${(err as Error).message}\nusage: ${capabilitiesUsage}`);
    return 1;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let capabilities: Capabilities;
  try {
    if (values.current) capabilities = verdictCapabilities();
    else if (values.version !== undefined) capabilities = capabilitiesOfVersion(values.version);
    else if (values.file !== undefined) capabilities = readCapabilitiesFile(values.file);
    else {
      console.log(capabilityVersions().join('\n'));
      return 0;
    }
  } catch (err) {
    if (!(err instanceof CapabilitiesError)) throw err;
    console.error(`verdict capabilities: ${err.message}`);
    return 1;
  }
  console.log(JSON.stringify(capabilities, null, 2));
  return 0;
}
