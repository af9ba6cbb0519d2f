// OPA's access log lines: "Received request." and "Sent response." with OPA's field names (req_id,
// req_method, req_path, client_addr, resp_status, resp_bytes, resp_duration in milliseconds), at the level
// `--log-level-request` names (info by default, so `--log-level info` shows them as OPA's does). Unlike OPA
// at debug, never the bodies, query parameters or headers: inputs and headers carry tokens and personal data.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export const requestLogLevels = ['debug', 'info', 'error'] as const;
export type RequestLogLevel = (typeof requestLogLevels)[number];

export type RequestLog = (req: IncomingMessage, res: ServerResponse, reqId: number, started: bigint) => void;

/** Logs one request and, when it is sent, its response; undefined when the level is off (nothing to do). */
export function requestLog(logger: Logger, level: RequestLogLevel = 'info'): RequestLog | undefined {
  if (!logger.isLevelEnabled(level)) return undefined;
  return (req, res, reqId, started) => {
    const fields = { client_addr: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`, req_id: reqId, req_method: req.method, req_path: (req.url ?? '/').split('?')[0] };
    logger[level](fields, 'Received request.');
    const body = countBodyBytes(res);
    res.once('finish', () => {
      logger[level]({ ...fields, resp_status: res.statusCode, resp_bytes: body.bytes, resp_duration: Number(process.hrtime.bigint() - started) / 1e6 }, 'Sent response.');
    });
  };
}

/** Counts the body bytes written through `res` (OPA's resp_bytes). */
function countBodyBytes(res: ServerResponse): { bytes: number } {
  const count = { bytes: 0 };
  const add = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') count.bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) count.bytes += chunk.byteLength;
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    add(chunk, rest[0]);
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'function') add(chunk, rest[0]);
    return end(chunk, ...rest);
  }) as ServerResponse['end'];
  return count;
}
