// Go's encoding/json output: what OPA prints where it calls json.Marshal / MarshalIndent on a value
// (json.marshal_with_options, io.jwt.encode_sign). Object keys sorted, HTML-sensitive characters escaped.
import { codePointOrder } from '../json/writer.js';

function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** json.Marshal (indent === undefined) or json.MarshalIndent(v, prefix, indent). */
export function goJsonMarshal(v: unknown, indent?: string, prefix = ''): string {
  const nl = (depth: number) => (indent === undefined ? '' : `\n${prefix}${indent.repeat(depth)}`);
  const sep = indent === undefined ? ':' : ': ';
  const write = (x: unknown, depth: number): string => {
    if (x === null || x === undefined) return 'null';
    if (typeof x === 'string') return goString(x);
    if (typeof x === 'number' || typeof x === 'boolean') return JSON.stringify(x);
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return `[${x.map((e) => nl(depth + 1) + write(e, depth + 1)).join(',')}${nl(depth)}]`;
    }
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o).sort(codePointOrder);
    if (keys.length === 0) return '{}';
    return `{${keys.map((k) => `${nl(depth + 1)}${goString(k)}${sep}${write(o[k], depth + 1)}`).join(',')}${nl(depth)}}`;
  };
  return write(v, 0);
}
