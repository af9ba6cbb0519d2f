// Verdict's version, as `verdict version` and the server's /v1/config labels report it.
export const verdictVersion = '0.1.0';

/** The build as OPA describes its own (data.system.version, a decision's provenance): Verdict's has no build details. */
export function buildInfo(version = verdictVersion) {
  return { version, build_commit: '', build_timestamp: '', build_hostname: '' };
}
