// OPA's `req_id`: the number a server listener gives each request it receives (1, 2, …, per process), carried
// on the request so the decision it leads to can name it in its event.
import type { IncomingMessage } from 'node:http';

const requestIdKey = Symbol('verdict.requestId');

type Numbered = IncomingMessage & { [requestIdKey]?: number };

export function setRequestId(req: IncomingMessage, id: number): void {
  (req as Numbered)[requestIdKey] = id;
}

export function requestIdOf(req: IncomingMessage | undefined): number | undefined {
  return req && (req as Numbered)[requestIdKey];
}
