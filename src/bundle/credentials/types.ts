// What every kind of service credential offers the service client: the headers one outgoing request needs.
import type { HttpResponse, SendOptions } from '../../net/http-client.js';

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface ServiceCredential {
  /** Headers to add to this request (Authorization, and for AWS the signing headers). */
  headers(request: OutgoingRequest): Promise<Record<string, string>>;
  /** The server answered 401: drop any cached token so the next request fetches a fresh one. */
  forget?(): void;
}

/** A refused credential setting; the service client prefixes it with the service's name. */
export class CredentialConfigError extends Error {
  override name = 'CredentialConfigError';
}

/** Sends one request to a token, metadata or STS endpoint (the service client's sendRequest). */
export type Send = (url: string, options: Pick<SendOptions, 'method' | 'headers' | 'body' | 'timeoutMs'>) => Promise<HttpResponse>;
