// A listening TCP socket on 127.0.0.1 given as a descriptor nothing in this thread accepts on, as a server thread
// of `verdict run --workers N` is given the shared port. Node has no dup(): the socket's handle makes a round trip
// through a child process's IPC channel and comes back as a new descriptor; the server that bound it is closed.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface ListeningFd {
  fd: number;
  port: number;
  /** The received handle: kept referenced so it is never closed here (the server given `fd` closes it). */
  handle: unknown;
}

const echo = "process.on('message', (m, h) => process.send(m, h, () => process.disconnect()));";

export async function listeningFd(): Promise<ListeningFd> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const child = spawn(process.execPath, ['-e', echo], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const handle = await new Promise<{ fd: number }>((resolve, reject) => {
      child.once('message', (_m, h) => resolve(h as unknown as { fd: number }));
      child.once('error', reject);
      child.send('socket', (server as unknown as { _handle: never })._handle);
    });
    return { fd: handle.fd, port, handle };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }
}
