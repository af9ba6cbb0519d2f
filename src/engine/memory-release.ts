// Giving back the memory a large data load, or the primary's start-up, leaves behind. Activating a large bundle
// allocates several times its size for a while (the bundle's text, the parsed document, the pieces loaded into
// wasm) and drops the previous set's instances; V8 keeps the pages that garbage occupied committed, half empty,
// until its memory reducer finds the thread idle, which a server answering decisions or polling bundles may
// never be (measured: a worker still held 40 MiB of old space beyond its live objects minutes after activating
// 20 MB of data). A few full collections shortly after such a load return them; each pauses decisions once,
// for tens of milliseconds, against an activation that took seconds.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Loads of at least this much JSON text are followed by full collections. */
export const LARGE_LOAD_BYTES = 8 << 20;

/** Long enough for the load's caller to drop what it held for it (the bundle's files and text). */
const DELAY_MS = 1000;

/**
 * When the collections of one release run, from the first. V8 returns the pages a collection emptied at the
 * next one, and shrinks the young generation only at a collection that finds the thread allocating little
 * over the last five seconds (a 16 MiB young generation grown during a load or a start-up otherwise stays
 * committed for good). Measured after activating a 100 MB data.json: a server thread's heap went from 508 to
 * 89, 54 and 34 MiB committed over the three, the other's from 44 to 42, 38 and 31 MiB, the primary's from 29
 * to 14 MiB at the third; one collection alone left 89 and 42.
 */
const COLLECTIONS_AT_MS = [0, 2000, 7000];

let collect: (() => void) | undefined;
let scheduled = false;

/** After a data load of `jsonBytes` of JSON text: full collections soon, when the load was large. */
export function releaseMemoryAfterLoad(jsonBytes: number): void {
  if (jsonBytes >= LARGE_LOAD_BYTES) collectSoon(DELAY_MS);
}

/**
 * How long after start-up the primary of a multi-threaded server collects: its start (loading its modules,
 * reading and validating the configuration, binding, starting the threads) is the only time it allocates much,
 * and grows its young generation to 16 MiB.
 */
export const PRIMARY_SETTLED_MS = 5000;

/** For the primary: full collections once start-up is over (PRIMARY_SETTLED_MS). */
export function releaseMemoryAfterStart(): void {
  collectSoon(PRIMARY_SETTLED_MS);
}

/** The collections of COLLECTIONS_AT_MS, `delayMs` from now, unless a release is already under way. */
function collectSoon(delayMs: number): void {
  if (scheduled) return;
  scheduled = true;
  for (const [i, at] of COLLECTIONS_AT_MS.entries()) {
    setTimeout(() => {
      if (i === COLLECTIONS_AT_MS.length - 1) scheduled = false;
      // The first compacts; the later ones find the survivors together already, and moving them all again would
      // only lengthen their pauses.
      if (i === 0) collectCompacting();
      else collector()();
    }, delayMs + at).unref();
  }
}

/**
 * One full collection that compacts every page of the heap. A plain full collection moves objects only off pages
 * it finds mostly empty (a few MiB of them), so the pages an activation filled stay committed wherever a few
 * objects survived on them (measured in a thread that kept a tenth of 60 MiB of records: 59 MiB of old space
 * committed for 10 MiB live, where a compacting collection left 11). Moving every survivor lengthens the
 * collection's pause (measured on the busy 2-core machine after activating 96.5 MiB of data, about 20 MiB live:
 * about twice a plain collection's). The flag is the process's (every thread's) and is set for this one
 * collection only: a collection another thread runs meanwhile compacts as well, which costs it time, not
 * correctness.
 */
export function collectCompacting(): void {
  const gc = collector();
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

function collector(): () => void {
  if (!collect) {
    // V8 gives gc() to the contexts created after the flag is set: a new one, so the server's own global scope
    // does not gain a `gc`.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/**
 * The young generation a server thread is given (worker_threads' resourceLimits.maxYoungGenerationSizeMb): V8
 * makes it three semi-spaces, two of them committed (8 MiB here). Left to itself V8 grows them to 16 MiB each
 * while a large activation runs and keeps the 32 MiB resident, nearly empty, afterwards: the largest part of a
 * server's V8 heap with data loaded. A decision's garbage is a few KiB, so scavenges of this size stay cheap:
 * CPU per decision at a fixed rate, side by side, measured within noise of V8's own size at 8 MiB, and about 15 %
 * more at 4 MiB. A larger one (32 MiB: scavenges about 2.8 times fewer) bought nothing either: with the decision
 * log off it cost 8-26 % more CPU per decision in each of five side-by-side runs (bench:server-cpu, 300-500
 * decisions/s), with the log on 3-24 % less in four and 12 % more in one, on a 2-core machine at load 15-28.
 */
export const SERVER_THREAD_YOUNG_GENERATION_MB = 12;
