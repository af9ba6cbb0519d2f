// Replicas hand the requests the owner worker must answer (writes, admin bundle routes, status, config) to the
// owner over its private socket, and stream its answer back unchanged. They have passed the gate
// (authentication, authorization) where they arrived; the owner's private listener has no gate of its own.
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { sendError, type EncodingOptions } from '../respond.js';
import { ApiError } from '../errors.js';

/** The requests only the owner answers: every change, and what reports on the bundle sources it runs. */
export function ownerAnswers(method: string | undefined, url: string): boolean {
  const path = url.split('?', 1)[0];
  if (path === '/v1/status' || path === '/v1/config' || path === '/v1/bundles' || path.startsWith('/v1/bundles/')) return true;
  if (method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') return false;
  return path === '/v1/data' || path.startsWith('/v1/data/') || path.startsWith('/v1/policies/');
}

/**
 * Kept-alive connections to the owner, which never closes them while it runs (serveForwarded): a connection the
 * owner closed after answering could still be written to (the request's end), failing a request it had answered.
 */
const toOwner = new Agent({ keepAlive: true });

export function forwardTo(socketPath: string, req: IncomingMessage, res: ServerResponse, encoding: EncodingOptions): void {
  const upstream = request({ socketPath, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: toOwner }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
    answer.pipe(res);
  });
  upstream.on('error', () => {
    // The owner is restarting (it crashed): nothing was applied anywhere, so the client may retry.
    sendError(req, res, new ApiError(503, 'internal_error', 'the worker that applies changes is restarting; retry the request'), encoding);
  });
  req.pipe(upstream);
}

/**
 * Without the hop-by-hop headers: each connection keeps its own (a client's `Connection: close` passed on would
 * have the owner close the private connection).
 */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}
