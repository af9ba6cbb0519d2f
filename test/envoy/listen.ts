import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';

// Starts an express app on a free loopback port.
export function listen(app: express.Express): Promise<{ server: Server; base: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}
