// The listening sockets of a `verdict run --workers N` server, bound once by the main thread and served by every
// server thread with `server.listen({ fd })`. Each thread needs a descriptor of its OWN: a thread that ends
// closes the descriptor it listened on, which would stop every other thread that used the same number (and later
// close whatever file reused the number). Node has no dup(), but a handle passed over a child process's IPC
// channel arrives as a new descriptor: a helper child (handle-echo.ts) sends back whatever it receives, and each
// round trip yields one duplicate. One duplicate per address, the keeper, stays here, never listened on and
// never closed, to make duplicates for threads started later (replacing one that died).
import { fork, type ChildProcess } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { parseListenAddress } from '../listeners.js';

/** A raw TCP or Pipe handle (net.Native) as received over IPC: its descriptor is `fd`. */
interface RawHandle {
  fd: number;
}

/** Each address's listening descriptor for one thread: --addr / --diagnostic-addr text → fd. */
export type ListeningFds = Record<string, number>;

export class SharedListeners {
  /** Handles given to threads are kept referenced: a thread closes its descriptor, this side never does. */
  private readonly given: RawHandle[] = [];

  private constructor(
    private readonly keepers: Map<string, RawHandle>,
    /** The TCP port each address was bound to (an address with port 0 gets one of the kernel's choosing). */
    private readonly ports: Map<string, number>,
  ) {}

  /** Binds every address (a unix socket file left over is removed first), keeps a duplicate of each, closes the rest. */
  static async bind(addrs: string[], tls: boolean): Promise<SharedListeners> {
    const servers = new Map<string, Server>();
    try {
      for (const addr of new Set(addrs)) servers.set(addr, await bindOne(addr, tls));
      const keepers = await duplicate([...servers.values()].map((s) => (s as unknown as { _handle: RawHandle })._handle), 1);
      const bound = [...servers].flatMap(([addr, server]) => {
        const address = server.address();
        return typeof address === 'object' && address !== null ? [[addr, address.port] as const] : [];
      });
      return new SharedListeners(new Map([...servers.keys()].map((addr, i) => [addr, keepers[0][i]])), new Map(bound));
    } finally {
      // The keepers hold the sockets; this side stops accepting on them (close's callback would wait for the
      // connections it accepted meanwhile, which are dropped: nothing serves here, and clients retry).
      for (const server of servers.values()) server.close();
    }
  }

  /** The TCP port `addr` listens on (undefined for a unix socket). */
  port(addr: string): number | undefined {
    return this.ports.get(addr);
  }

  /** A fresh set of descriptors for each of `count` threads. */
  async forThreads(count: number): Promise<ListeningFds[]> {
    const addrs = [...this.keepers.keys()];
    if (addrs.length === 0) return Array.from({ length: count }, () => ({}));
    const sets = await duplicate([...this.keepers.values()], count);
    this.given.push(...sets.flat());
    return sets.map((handles) => Object.fromEntries(addrs.map((addr, i) => [addr, handles[i].fd])));
  }
}

async function bindOne(addr: string, tls: boolean): Promise<Server> {
  const address = parseListenAddress(addr, tls);
  // Connections that arrive before the threads serve and land here are dropped (nothing here serves them).
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => reject(new Error(`cannot listen on ${addr}: ${err.message}`)));
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
