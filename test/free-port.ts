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
