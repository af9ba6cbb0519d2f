// `verdict version`: opa version's lines, with Node's version where OPA gives Go's.
import { verdictVersion } from '../version.js';

export function versionText(): string {
  return [
    `Version: ${verdictVersion}`,
    `Node Version: ${process.version}`,
    `Platform: ${process.platform}/${process.arch}`,
    'Rego Version: v1',
    'WebAssembly: available (OPA wasm ABI 1.2, compiled by Verdict and run in-process)',
  ].join('\n');
}
