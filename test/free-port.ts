// A free loopback port for a server that cannot be told to listen on port 0 itself (nginx, slapd,
// PostgreSQL, OPA, `verdict run --addr`): bind port 0, read the port the kernel chose, release it.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * A loopback port held open by a listener of this process, for tests of a server told to listen where it cannot:
 * `addr` is host:port, `release()` closes the listener.
 */
export async function holdPort(): Promise<{ addr: string; release(): Promise<void> }> {
  const held = createServer();
  await new Promise<void>((resolve, reject) => {
    held.once('error', reject);
    held.listen(0, '127.0.0.1', resolve);
  });
  return {
    addr: `127.0.0.1:${(held.address() as { port: number }).port}`,
    release: () => new Promise<void>((resolve) => held.close(() => resolve())),
  };
}
