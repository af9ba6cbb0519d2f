// Node runs a timer asked for more than 2^31-1 ms after 1 ms instead (with a TimeoutOverflowWarning), which
// would turn a configured delay of a month or more into a busy loop. Waits that long are cut to the longest
// timer Node keeps; the loops that wait simply wait again.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export function timerDelay(ms: number): number {
  return Math.min(ms, LONGEST_TIMER_MS);
}
