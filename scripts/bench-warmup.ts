// How long the benchmarks that compare servers load each one before they measure it (--warmup SECONDS), the same
// for every server of a run, OPA included. Users run a PDP for hours, so the figures that matter are its steady
// state. V8 reaches it late: it optimizes a function only once it has run hot for a while, its optimizing compiler
// runs on helper threads that share the cores with the servers, and a function that meets a new shape is
// deoptimized and optimized again. On a loaded 2-core machine that was still going on 40 s into a run, and a
// server whose requests run more code (the decision log's record step) stays longer in that state: a short
// warm-up charges the log-on servers for compiling, not for logging.

/** Long enough for the JIT compilers to finish with the request path on a busy 2-core machine (see above). */
export const DEFAULT_WARMUP_SECONDS = 30;

/** The --warmup line of a benchmark's help text. */
export const WARMUP_HELP = `--warmup SECONDS  load each server this long before measuring it (default ${DEFAULT_WARMUP_SECONDS}: V8 optimizes a server's request path for tens of seconds, and steady state is what a long-running PDP shows; 0 measures from the first request)`;

/** The --warmup value as seconds; refuses what is not a number of seconds, 0 or more. */
export function warmupSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WARMUP_SECONDS;
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw new Error(`--warmup ${text}: expected a number of seconds, 0 or more`);
  return seconds;
}
