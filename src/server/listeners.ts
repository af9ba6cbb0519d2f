// The server's listening sockets, as `opa run` opens them: every --addr and --diagnostic-addr, each TCP
// (http:// or https://; a bare HOST:PORT is https when a certificate is given) or a unix:// socket file.
import { chmodSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerTls } from './tls.js';

export type ListenAddress = { scheme: 'http' | 'https'; host: string; port: number } | { scheme: 'unix'; path: string };

export class ListenAddressError extends Error {
  override name = 'ListenAddressError';
}

/** Reads one address as OPA does: HOST:PORT (":8181" is every interface), http://, https:// or unix://PATH. */
export function parseListenAddress(addr: string, tlsConfigured: boolean): ListenAddress {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(addr);
  const scheme = match ? match[1].toLowerCase() : tlsConfigured ? 'https' : 'http';
  const rest = match ? match[2] : addr;
  if (scheme === 'unix') {
    if (rest === '') throw new ListenAddressError(`--addr ${addr}: unix:// needs a socket path`);
    return { scheme, path: rest.startsWith('@') ? `\0${rest.slice(1)}` : rest };
  }
  if (scheme !== 'http' && scheme !== 'https') throw new ListenAddressError(`--addr ${addr}: invalid url scheme "${scheme}" (expected http, https or unix)`);
  const i = rest.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : rest.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(rest.slice(i + 1));
  if (i < 0 || rest.slice(i + 1) === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ListenAddressError(`--addr ${addr}: expected HOST:PORT with a port from 0 to 65535`);
  }
  return { scheme, host, port };
}

export interface Listener {
  /** Where clients reach it: http://127.0.0.1:8181, https://..., unix:///path. */
  url: string;
  server: Server;
}

export interface ListenSettings {
  tls?: ServerTls;
  unixSocketMode: number;
  /** A descriptor already bound to the address, this thread's own (the threads of one server share the address). */
  boundFd?: (addr: string) => number | undefined;
}

export async function listen(addr: string, handler: RequestListener, settings: ListenSettings): Promise<Listener> {
  const address = parseListenAddress(addr, settings.tls !== undefined);
  let server: Server;
  if (address.scheme === 'https') {
    if (!settings.tls) throw new ListenAddressError(`--addr ${addr}: https needs --tls-cert-file and --tls-private-key-file`);
    const tlsServer = createHttpsServer(settings.tls.serverOptions(), handler);
    settings.tls.track(tlsServer);
    server = tlsServer;
  } else {
    server = createHttpServer(handler);
  }
  const fd = settings.boundFd?.(addr);
  // A socket file left by a previous run would make listen fail; OPA removes it too. The threads of one server
  // are given the socket bound by the primary, which removed the old file (a thread would remove the others').
  if (address.scheme === 'unix' && !address.path.startsWith('\0') && fd === undefined) rmSync(address.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (fd !== undefined) server.listen({ fd }, done);
    else if (address.scheme === 'unix') {
      // The socket file is created owner-only (the bind happens inside listen); its final mode is set below.
      const umask = process.umask(0o177);
      try {
        server.listen(address.path, done);
      } finally {
        process.umask(umask);
      }
    } else server.listen(address.port, address.host, done);
  }).catch((err: NodeJS.ErrnoException) => {
    throw new ListenAddressError(`cannot listen on ${addr}: ${err.message}`);
  });
  if (address.scheme === 'unix') {
    if (!address.path.startsWith('\0')) chmodSync(address.path, settings.unixSocketMode);
    return { url: `unix://${address.path.replace('\0', '@')}`, server };
  }
  const bound = server.address() as AddressInfo;
  return { url: `${address.scheme}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`, server };
}

/** Stops accepting, lets in-flight requests finish for up to `timeoutMs`, then drops what is left. */
export function closeListener(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
