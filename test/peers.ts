// Peers the tests start for real (nginx, Chromium, opa-envoy-plugin). A test must not pass by skipping:
// - a peer the project's scripts install (scripts/install-system-deps.sh) is required under CI=true: when it is
//   missing, a failing test names it, and the tests that need it are skipped with the same reason;
// - outside CI, a missing peer only skips the tests that need it, with the reason;
// - a peer that truly cannot be had on a fresh machine (see UNOBTAINABLE) is skipped everywhere, and under CI each
//   skip is appended to the file named by VERDICT_SKIP_REPORT, which .ci/run prints at the end of the run.
import { appendFileSync } from 'node:fs';
import { test } from 'node:test';

export interface Peer<T> {
  /** The peer (a path, a handle) when it was found. */
  found?: T;
  /** The skip reason for the tests that need it, when it was not. */
  skip?: string;
}

const underCi = process.env.CI === 'true';

function look<T>(find: () => T | undefined): { found?: T; problem?: string } {
  try {
    const found = find();
    return found === undefined ? { problem: 'not found' } : { found };
  } catch (err) {
    return { problem: String((err as Error).message ?? err).trim().split('\n').pop() };
  }
}

/** A peer our scripts install: missing under CI=true fails the run. */
export function requiredPeer<T>(name: string, find: () => T | undefined): Peer<T> {
  const { found, problem } = look(find);
  if (found !== undefined) return { found };
  const skip = `${name} is missing (${problem}); scripts/install-system-deps.sh installs it`;
  if (underCi) {
    test(`peer ${name} is installed (CI=true)`, () => {
      throw new Error(skip);
    });
  }
  return { skip };
}

/**
 * Peers no script can install on a fresh machine, and why. opa-envoy-plugin: the Go module proxy answers
 * "403 This module version is not available" for it, so `go install` cannot fetch it; a source checkout named by
 * OPA_ENVOY_PLUGIN_SRC, or a build in the per-machine cache, makes it available (scripts/install-opa-envoy-plugin.sh).
 * sql-server: Microsoft ships it as packages for other distributions and as container images only.
 */
export const UNOBTAINABLE = {
  'opa-envoy-plugin': 'the Go module proxy does not serve it; set OPA_ENVOY_PLUGIN_SRC to a checkout of the pinned tag to run these',
  'sql-server': 'SQL Server has no Debian package and runs only from a container image, and there is no container engine; its WHERE clauses are printed by the tested SQL code but not run',
} as const;

/** A peer that cannot be had on a fresh machine: skipped with the reason, and reported by .ci/run under CI. */
export function unobtainablePeer<T>(name: keyof typeof UNOBTAINABLE, site: string, find: () => T | undefined): Peer<T> {
  const { found, problem } = look(find);
  if (found !== undefined) return { found };
  const skip = `${name} unavailable (${problem}): ${UNOBTAINABLE[name]}`;
  const report = process.env.VERDICT_SKIP_REPORT;
  if (report) appendFileSync(report, `${site}: ${skip}\n`);
  return { skip };
}
