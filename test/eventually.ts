// Waiting for a condition that something asynchronous (a writer thread, a server, a control plane) makes true,
// rather than for a fixed time: a loaded machine makes any fixed time either too short or needlessly long. The
// default limit is generous for the same reason; it only matters when the condition never comes.

/** Polls `probe` until it returns a truthy value, and returns that value; fails with `what` after `ms`. */
export async function eventually<T>(what: string, probe: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
