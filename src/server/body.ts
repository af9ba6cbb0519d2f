// Request bodies as OPA reads them: optional gzip Content-Encoding, size limits on the raw and the
// decompressed body (server.decoding.max_length / gzip.max_length), JSON by default and YAML when the
// content type says so.
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { parseYamlAsOpa } from '../json/yaml.js';
import { invalidParameter } from './errors.js';
import { readJson, readJsonDocument, type WatchedMember } from '../json/reader.js';
import { credentialHeaders } from '../decisionlog/credentials.js';
import { isJsonObject, someNumberText } from '../json/kinds.js';
import { beyondOpaRange } from '../json/number-text.js';
import { goYamlMessage } from '../json/yaml-errors.js';

export interface DecodingLimits {
  maxLength: number;
  gzipMaxLength: number;
}

/** server.decoding, with OPA's defaults: 256 MiB on the wire, 512 MiB once decompressed. */
export function decodingLimits(decoding: { max_length?: number; gzip?: { max_length?: number } } = {}): DecodingLimits {
  return { maxLength: decoding.max_length ?? 268_435_456, gzipMaxLength: decoding.gzip?.max_length ?? 536_870_912 };
}

// Bodies already read before the handler ran (the authorization policy sees the input too), kept for it.
const bodiesRead = new WeakMap<IncomingMessage, Buffer>();

export function keepBody(req: IncomingMessage, body: Buffer): void {
  bodiesRead.set(req, body);
}

/** Reads the whole body, enforcing the limits; a refused body is drained so the connection stays usable. */
export async function readBody(req: IncomingMessage, limits: DecodingLimits): Promise<Buffer> {
  const kept = bodiesRead.get(req);
  if (kept) return kept;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limits.maxLength) {
    req.resume();
    throw tooLarge(declared, limits.maxLength);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limits.maxLength) {
      req.resume();
      throw tooLarge(size, limits.maxLength);
    }
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  return /gzip/i.test(req.headers['content-encoding'] ?? '') ? gunzipLimited(raw, limits.gzipMaxLength) : raw;
}

function tooLarge(size: number, limit: number) {
  return invalidParameter(`request body too large: ${formatSize(size)} exceeds limit of ${limit} bytes (server.decoding.max_length)`);
}

/** Go's humanize-style sizes, as OPA prints them ("2.9 KiB"). */
function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function gunzipLimited(raw: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let size = 0;
    gunzip.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        gunzip.destroy();
        reject(invalidParameter(`request body too large: decompressed size exceeds limit of ${limit} bytes (server.decoding.gzip.max_length)`));
        return;
      }
      chunks.push(chunk);
    });
    gunzip.on('error', (err: NodeJS.ErrnoException) => {
      // Go's gzip reader words (what OPA reports): short input is an unexpected EOF, a wrong magic an invalid header.
      const reason = raw.length < 10 || err.code === 'Z_BUF_ERROR' ? 'unexpected EOF' : raw[0] !== 0x1f || raw[1] !== 0x8b ? 'gzip: invalid header' : err.message;
      reject(invalidParameter(`could not decompress the body: ${reason}`));
    });
    gunzip.on('end', () => resolve(Buffer.concat(chunks)));
    gunzip.end(raw);
  });
}

export function isYaml(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').includes('yaml');
}

/**
 * Parses a JSON or YAML document as OPA's decoder does (the first JSON value, exact numbers, Go's depth limit
 * and messages); the error message says what was wrong.
 */
export function parseDocument(body: Buffer, yaml: boolean): unknown {
  const text = body.toString('utf8');
  if (yaml) return parseYamlText(text);
  return readJson(text, { trailing: 'ignore' });
}

function parseYamlText(text: string): unknown {
  try {
    return parseYamlAsOpa(text);
  } catch (err) {
    throw new SyntaxError(goYamlMessage(err as Error, text));
  }
}

/**
 * Parses a request body and also returns JSON text as the client sent it, for the wasm module: the value of
 * member `key` of the top-level object (its last occurrence, which is the one that counts), or without `key`
 * the whole document without what follows it. No re-serialisation, and the numbers stay as written. YAML
 * bodies have no such text. `credentialFree`: no key of the body names a credential header (in any case), so the
 * decision log need not search the text for credentials to erase. `validUtf8`: the text's bytes are valid UTF-8, so
 * the log need not check them before storing them as they are. `credentialMembers`: where the text's members with a
 * credential header name as key are (byte offsets in memberText, paths from its value), when there are some and the
 * text is the body's own valid UTF-8 bytes, so that the log cuts them out without searching the text.
 */
export function parseEnvelope(
  body: Buffer,
  yaml: boolean,
  key?: string,
): { value: unknown; memberText?: Uint8Array; credentialFree?: boolean; credentialMembers?: WatchedMember[]; validUtf8?: boolean } {
  const text = body.toString('utf8');
  if (yaml) return { value: parseYamlText(text) };
  const { value, span, valueSpan, keptNumberText, watchedKey, watchedMembers } = readJsonDocument(text, { trailing: 'ignore', spanOfKey: key, watchKeys: credentialHeaders });
  if (keptNumberText) checkInputNumbers(key === undefined ? value : isJsonObject(value) ? value[key] : undefined);
  const [start, end] = key === undefined ? valueSpan : span ?? [0, -1];
  if (end < 0) return { value };
  // Offsets are characters; for ASCII bodies they are also bytes, so the body is sliced without a copy. Every
  // character then stands for one byte: an ASCII byte, or an invalid byte read as U+FFFD (a valid sequence of 2 to 4
  // bytes reads as fewer characters). Text encoded again from the characters is valid UTF-8 whatever the body held.
  const sliced = text.length === body.length;
  const memberText = sliced ? body.subarray(start, end) : Buffer.from(text.slice(start, end), 'utf8');
  // A body decoded to one-byte characters has no U+FFFD: the search ends at once.
  const validUtf8 = !sliced || !text.includes('\uFFFD');
  // Character offsets are the bytes' only when the body was sliced.
  const credentialMembers = watchedMembers && sliced && validUtf8 ? membersWithin(watchedMembers, start, end, key !== undefined) : undefined;
  return { value, memberText, credentialFree: !watchedKey, credentialMembers, validUtf8 };
}

/** The members within [start, end), their offsets from `start` and, `inMember`, their paths from that member's value. */
function membersWithin(members: WatchedMember[], start: number, end: number, inMember: boolean): WatchedMember[] {
  const within: WatchedMember[] = [];
  for (const m of members) {
    if (m.start >= start && m.end <= end) within.push({ start: m.start - start, end: m.end - start, path: inMember ? m.path.slice(1) : m.path });
  }
  return within;
}

/** OPA refuses input numbers beyond its arbitrary-precision range, whatever the policy does with them. */
export class InputNumberError extends Error {
  override name = 'InputNumberError';
}

export function checkInputNumbers(input: unknown): void {
  if (someNumberText(input, beyondOpaRange)) throw new InputNumberError('invalid number: number too big');
}

/** Empty or only whitespace: OPA's handlers treat such a body as no body. */
export function isBlank(body: Buffer): boolean {
  for (const byte of body) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  return true;
}

/** Describes a JSON value's kind for "expected an object, got ..." messages. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
