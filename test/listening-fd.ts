// A listening TCP socket on 127.0.0.1 given as a descriptor nothing in this thread accepts on, as a server thread
// of `verdict run --workers N` is given the shared port: made the way the primary makes it (shared-listeners.ts).
import { SharedListeners } from '../src/server/cluster/shared-listeners.js';

export interface ListeningFd {
  fd: number;
  port: number;
}

const addr = '127.0.0.1:0';

export async function listeningFd(): Promise<ListeningFd> {
  const listeners = await SharedListeners.bind([addr], false);
  const [fds] = await listeners.forThreads(1);
  return { fd: fds[addr]![0]!, port: listeners.port(addr)! };
}
