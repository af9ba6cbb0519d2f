// Response writing shared by every route: OPA's JSON layout (compact with a trailing newline, errors and
// ?pretty indented by two spaces) and gzip when the client accepts it and the body is large enough.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ApiError, internalError } from './errors.js';
import { writeJson } from '../json/writer.js';

export interface EncodingOptions {
  gzipMinLength: number;
  gzipLevel: number;
}

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, pretty: boolean, encoding: EncodingOptions, contentType = 'application/json'): void {
  sendJsonText(req, res, status, writeJson(value, pretty ? 2 : undefined), encoding, contentType);
}

/** sendJson for a value already written (writeJson's layout): the trailing newline is added here. */
export function sendJsonText(req: IncomingMessage, res: ServerResponse, status: number, json: string, encoding: EncodingOptions, contentType = 'application/json'): void {
  const text = json + '\n';
  let body: Buffer | string = text;
  const headers: Record<string, string | number> = { 'Content-Type': contentType, Vary: 'Accept-Encoding' };
  if (text.length >= encoding.gzipMinLength && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    body = gzipSync(text, { level: encoding.gzipLevel });
    headers['Content-Encoding'] = 'gzip';
  }
  headers['Content-Length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, encoding: EncodingOptions): void {
  const apiError = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(req, res, apiError.status, apiError.toJSON(), true, encoding);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/**
 * OPA's boolean query parameters: given once without a value, or any of its values "true" in any case
 * (`?metrics=1` is false there, `?metrics=false&metrics=true` true).
 */
export function boolParam(query: URLSearchParams, name: string): boolean {
  const values = query.getAll(name);
  if (values.length === 1 && values[0] === '') return true;
  return values.some((v) => v.toLowerCase() === 'true');
}
