// Serving the ext_authz gRPC port on a listening socket Verdict was handed (a descriptor) instead of one grpc-js
// binds itself: a server thread of a multi-threaded `verdict run` cannot bind the shared port again, so the main
// thread binds it once and gives each thread a descriptor of it. A net.Server of ours accepts on that
// descriptor and hands every connection to grpc-js through its connection injector, which runs the same HTTP/2
// (and, with TLS credentials, TLS handshake and certificate reloading) as a port grpc-js binds.
import { createServer, type Server, type Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** An already listening socket, by descriptor; it becomes the gRPC server's and is closed when it stops. */
export interface GrpcListenSocket {
  fd: number;
}

export interface InjectedListener {
  /** The TCP port the socket is bound to (0 for a unix socket). */
  port: number;
  /** Stops accepting and closes the descriptor; connections grpc-js already serves are closed by its shutdown. */
  stopAccepting(): void;
  /** Drops connections still in their TLS handshake once grpc-js has shut down. */
  destroyRemaining(): void;
}

export async function serveOnSocket(server: grpc.Server, credentials: grpc.ServerCredentials, socket: GrpcListenSocket, logger?: Logger): Promise<InjectedListener> {
  const injector = server.createConnectionInjector(credentials);
  const open = new Set<Socket>();
  const listener: Server = createServer((connection) => {
    open.add(connection);
    connection.once('close', () => open.delete(connection));
    injector.injectConnection(connection);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ fd: socket.fd }, () => {
      listener.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    injector.destroy();
    throw new Error(`envoy_ext_authz_grpc: cannot listen on descriptor ${socket.fd}: ${err.message}`);
  });
  // Accept failures (out of descriptors, say) must not end the thread; the listener carries on accepting.
  listener.on('error', (err) => logger?.error({ err: err.message }, 'gRPC listener could not accept a connection.'));
  const address = listener.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    stopAccepting: () => void listener.close(),
    destroyRemaining: () => {
      for (const connection of open) connection.destroy();
      open.clear();
    },
  };
}
