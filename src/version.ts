// Verdict's version, as `verdict version` and the server's /v1/config labels report it.
export const verdictVersion = '0.1.0';
