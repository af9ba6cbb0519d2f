// Just enough of RFC 7578 (multipart/form-data) and RFC 2045 media types to build parsed_body the
// way opa-envoy-plugin does with Go's mime and mime/multipart packages: the whole body is in
// memory already (Envoy buffers it), so a synchronous parser over one string does the job.
import { InputParseError } from './go-url.js';

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

// mime.ParseMediaType: "type/subtype; name=value; name=\"quoted value\"".
export function parseMediaType(header: string): MediaType {
  const [head, ...rest] = splitParams(header);
  const type = head.trim().toLowerCase();
  if (type === '') throw new InputParseError('mime: no media type');
  const params: Record<string, string> = {};
  for (const param of rest) {
    const text = param.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    const name = (eq < 0 ? text : text.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 || !TOKEN.test(name)) throw new InputParseError('mime: invalid media parameter');
    let value = text.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      if (value.length < 2 || !value.endsWith('"')) throw new InputParseError('mime: invalid media parameter');
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (name in params) throw new InputParseError('mime: duplicate parameter name');
    params[name] = value;
  }
  return { type, params };
}

// Splits on ';' outside quoted strings.
function splitParams(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (quoted && c === '\\' && i + 1 < header.length) {
      current += c + header[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

export interface FormPart {
  name: string;
  contentType: string;
  content: string;
}

// Parts that carry a form-data name, in order. Text before the first delimiter (the preamble) is
// skipped; a body that never reaches its closing delimiter is an error, as in Go.
export function parseMultipartForm(body: string, boundary: string): FormPart[] {
  const delimiter = '--' + boundary;
  let at = findDelimiter(body, delimiter, 0);
  if (at < 0) throw new InputParseError('multipart: NextPart: EOF');
  const parts: FormPart[] = [];
  for (;;) {
    let cursor = at + delimiter.length;
    if (body.startsWith('--', cursor)) return parts;
    while (body[cursor] === ' ' || body[cursor] === '\t') cursor++;
    if (body.startsWith('\r\n', cursor)) cursor += 2;
    else if (body[cursor] === '\n') cursor += 1;
    else throw new InputParseError('multipart: expecting a new Part; got line ' + JSON.stringify(body.slice(at, cursor + 10)));
    const headerEnd = findHeaderEnd(body, cursor);
    if (headerEnd.start < 0) throw new InputParseError('multipart: NextPart: unexpected EOF');
    const headers = parsePartHeaders(body.slice(cursor, headerEnd.start));
    const next = findDelimiter(body, delimiter, headerEnd.end);
    if (next < 0) throw new InputParseError('multipart: NextPart: unexpected EOF');
    const contentEnd = body[next - 1] === '\n' ? (body[next - 2] === '\r' ? next - 2 : next - 1) : next;
    const name = formName(headers['content-disposition']);
    if (name !== '') parts.push({ name, contentType: headers['content-type'] ?? '', content: body.slice(headerEnd.end, contentEnd) });
    at = next;
  }
}

// A delimiter counts at the start of the body or at the start of a line.
function findDelimiter(body: string, delimiter: string, from: number): number {
  let i = body.indexOf(delimiter, from);
  while (i >= 0) {
    if (i === 0 || body[i - 1] === '\n') return i;
    i = body.indexOf(delimiter, i + 1);
  }
  return -1;
}

function findHeaderEnd(body: string, from: number): { start: number; end: number } {
  if (body.startsWith('\r\n', from)) return { start: from, end: from + 2 };
  if (body[from] === '\n') return { start: from, end: from + 1 };
  const crlf = body.indexOf('\r\n\r\n', from);
  const lf = body.indexOf('\n\n', from);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return { start: -1, end: -1 };
}

function parsePartHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new InputParseError(`malformed MIME header line: ${line}`);
    const key = line.slice(0, colon).trim().toLowerCase();
    headers[key] ??= line.slice(colon + 1).trim();
  }
  return headers;
}

// multipart.Part.FormName: the name parameter of a "form-data" Content-Disposition, else "".
function formName(disposition: string | undefined): string {
  if (!disposition) return '';
  try {
    const parsed = parseMediaType(disposition);
    return parsed.type === 'form-data' ? (parsed.params.name ?? '') : '';
  } catch {
    return '';
  }
}
