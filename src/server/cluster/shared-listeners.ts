// The listening sockets of a `verdict run --workers N` server, bound once by the main thread and served by every
// server thread with `server.listen({ fd })`. Each thread needs a descriptor of its OWN: a thread that ends
// closes the descriptor it listened on, which would stop every other thread that used the same number (and later
// close whatever file reused the number). Node has no dup(), but a handle passed over a child process's IPC
// channel arrives as a new descriptor: a helper child (handle-echo.ts) sends back whatever it receives, and each
// round trip yields one duplicate. One duplicate per address, the keeper, stays here, never listened on and
// never closed, to make duplicates for threads started later (replacing one that died).
// An address whose host name resolves to several addresses is bound on the first (as Go's and Node's listen do),
// unless it is one to bind on every one, as grpc-js binds the Envoy gRPC address.
import { fork, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { renameSync, rmSync } from 'node:fs';
import { createServer, isIP, type Server } from 'node:net';
import { parseListenAddress } from '../listeners.js';

/** A raw TCP or Pipe handle (net.Native) as received over IPC: its descriptor is `fd`. */
interface RawHandle {
  fd: number;
}

/** Each address's listening descriptors for one thread (one per address bound): --addr text → fds. */
export type ListeningFds = Record<string, number[]>;

export interface BindOptions {
  /** Addresses bound on every address their host name resolves to. */
  everyAddress?: ReadonlySet<string>;
  /** Host name resolution (all addresses, in the resolver's order); dns.lookup by default. */
  resolve?: (host: string) => Promise<string[]>;
}

/** The addresses a name stands for, in the resolver's order (as grpc-js resolves the address it binds). */
async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

export class SharedListeners {
  /** Handles given to threads are kept referenced: a thread closes its descriptor, this side never does. */
  private readonly given: RawHandle[] = [];

  private constructor(
    /** Per address, the keeper of each socket bound for it. */
    private readonly keepers: Map<string, RawHandle[]>,
    /** The TCP port each address was bound to (an address with port 0 gets one of the kernel's choosing). */
    private readonly ports: Map<string, number>,
    /** Resolved addresses that could not be bound while others of the same name were (grpc-js carries on too). */
    readonly unbound: string[],
  ) {}

  /** Binds every address (a unix socket file left over is removed first), keeps a duplicate of each, closes the rest. */
  static async bind(addrs: string[], tls: boolean, options: BindOptions = {}): Promise<SharedListeners> {
    const servers = new Map<string, Server[]>();
    const unbound: string[] = [];
    try {
      for (const addr of new Set(addrs)) {
        const bound = options.everyAddress?.has(addr) ? await bindEvery(addr, tls, options.resolve ?? resolveAll, unbound) : [await bindOne(addr, tls)];
        servers.set(addr, bound);
      }
      const all = [...servers.values()].flat();
      const [copies] = await duplicate(all.map((s) => (s as unknown as { _handle: RawHandle })._handle), 1);
      const keepers = new Map<string, RawHandle[]>();
      const ports = new Map<string, number>();
      for (const [addr, list] of servers) {
        keepers.set(addr, copies.splice(0, list.length));
        const address = list[0]!.address();
        if (typeof address === 'object' && address !== null) ports.set(addr, address.port);
      }
      return new SharedListeners(keepers, ports, unbound);
    } finally {
      // The keepers hold the sockets; this side stops accepting on them (close's callback would wait for the
      // connections it accepted meanwhile, which are dropped: nothing serves here, and clients retry).
      for (const server of [...servers.values()].flat()) server.close();
    }
  }

  /** The TCP port `addr` listens on (undefined for a unix socket). */
  port(addr: string): number | undefined {
    return this.ports.get(addr);
  }

  /** A fresh set of descriptors for each of `count` threads. */
  async forThreads(count: number): Promise<ListeningFds[]> {
    if (this.keepers.size === 0) return Array.from({ length: count }, () => ({}));
    const sets = await duplicate([...this.keepers.values()].flat(), count);
    this.given.push(...sets.flat());
    return sets.map((handles) => Object.fromEntries([...this.keepers].map(([addr, list]) => [addr, handles.splice(0, list.length).map((h) => h.fd)])));
  }
}

/**
 * Binds `addr` on each address its host resolves to, all on one port (the first's, when the port is 0), as
 * grpc-js does: the addresses that fail are listed in `unbound` as long as one was bound.
 */
async function bindEvery(addr: string, tls: boolean, resolve: (host: string) => Promise<string[]>, unbound: string[]): Promise<Server[]> {
  const address = parseListenAddress(addr, tls);
  if (address.scheme === 'unix' || isIP(address.host) !== 0) return [await bindOne(addr, tls)];
  const hosts = await resolve(address.host).catch((err: Error) => {
    throw new Error(`cannot listen on ${addr}: ${err.message}`);
  });
  const servers: Server[] = [];
  const failures: string[] = [];
  let port = address.port;
  for (const host of hosts) {
    const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    try {
      const server = await bindOne(target, tls, addr);
      servers.push(server);
      port = (server.address() as { port: number }).port;
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (servers.length === 0) throw new Error(failures[0] ?? `cannot listen on ${addr}: ${address.host} resolves to no address`);
  unbound.push(...failures);
  return servers;
}

/** `named`: the address as configured, for errors (when `addr` is one of the addresses it resolved to). */
async function bindOne(addr: string, tls: boolean, named = addr): Promise<Server> {
  const address = parseListenAddress(addr, tls);
  // Connections that arrive before the threads serve and land here are dropped (nothing here serves them).
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => reject(new Error(`cannot listen on ${named === addr ? addr : `${named} (${addr})`}: ${err.message}`)));
    if (address.scheme !== 'unix') return server.listen(address.port, address.host, () => resolve());
    if (address.path.startsWith('\0')) return server.listen(address.path, () => resolve());
    // Closing a server that bound a socket file removes the file: bound under a name of its own and renamed, the
    // socket stays reachable at its path once this server is closed. Owner-only until the threads set its mode.
    rmSync(address.path, { force: true });
    const bound = `${address.path}.${process.pid}.binding`;
    const umask = process.umask(0o177);
    server.listen(bound, () => {
      renameSync(bound, address.path);
      resolve();
    });
    process.umask(umask);
  });
  return server;
}

/** `rounds` duplicates of each handle, through one helper child. */
async function duplicate(handles: RawHandle[], rounds: number): Promise<RawHandle[][]> {
  const child = fork(new URL('./handle-echo.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  try {
    const sets: RawHandle[][] = [];
    for (let round = 0; round < rounds; round++) {
      const set: RawHandle[] = [];
      for (const handle of handles) set.push(await echo(child, handle));
      sets.push(set);
    }
    return sets;
  } finally {
    child.disconnect();
  }
}

function echo(child: ChildProcess, handle: RawHandle): Promise<RawHandle> {
  return new Promise((resolve, reject) => {
    const onExit = () => reject(new Error('the process duplicating listening sockets exited'));
    child.once('exit', onExit);
    child.once('message', (_message, received) => {
      child.off('exit', onExit);
      resolve(received as unknown as RawHandle);
    });
    child.send('dup', handle as never);
  });
}
