// Digests of bundle files as OPA's bundle signatures define them (docs: management-bundles, "Signature format").
// data.json, data.yaml/data.yml and .manifest are hashed over a canonical form of their parsed value (object keys
// sorted, no whitespace, numbers as written), so re-formatting a JSON file does not break its signature; every
// other file is hashed as raw bytes.
import { createHash } from 'node:crypto';
import { parseYamlAsOpa } from '../json/yaml.js';
import { NumberText } from '../json/number-text.js';
import { BundleError } from './files.js';

export const hashAlgorithms = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
} as const;

/** A hash algorithm name as it appears in a signature's file list. */
export type HashAlgorithm = keyof typeof hashAlgorithms;

export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return Object.hasOwn(hashAlgorithms, name);
}

/** Files whose parsed value, not their bytes, is signed: OPA's "structured documents". */
export function isStructuredBundleFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === 'data.yaml' || base === 'data.yml' || base === '.manifest';
}

/** Hex digest of one bundle file, structured or raw as OPA computes it. */
export function hashBundleFile(path: string, data: Buffer, algorithm: HashAlgorithm): string {
  const hash = createHash(hashAlgorithms[algorithm]);
  if (!isStructuredBundleFile(path)) hash.update(data);
  else hash.update(/\.ya?ml$/.test(path) ? canonicalYaml(path, data) : canonicalJson(path, data.toString('utf8')), 'utf8');
  return hash.digest('hex');
}

// The canonical text OPA hashes: objects as {"k":v,...} with keys sorted, arrays as [v,...], no whitespace,
// strings in Go's JSON form, numbers as written in the source. It is built as text directly (no value tree),
// which keeps a 10 MB data.json to a fraction of a second.

function canonicalYaml(path: string, data: Buffer): string {
  let parsed: unknown;
  try {
    parsed = parseYamlAsOpa(data.toString('utf8'));
  } catch (err) {
    throw new BundleError(`${path}: invalid YAML: ${(err as Error).message}`);
  }
  return canonicalPlain(parsed ?? null);
}

// YAML numbers reach OPA as Go float64/int64/uint64 printed by encoding/json, which matches JavaScript's number
// form where a JS number holds them exactly, and their NumberText where it does not (src/json/yaml.ts).
function canonicalPlain(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof NumberText) return v.text;
  if (typeof v === 'string') return goJsonString(v);
  if (v instanceof Date) return goJsonString(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonicalPlain).join(',')}]`;
  const obj = v as Record<string, unknown>;
  return `{${sortedKeys(Object.keys(obj)).map((k) => `${goJsonString(k)}:${canonicalPlain(obj[k])}`).join(',')}}`;
}

const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const literals = ['true', 'false', 'null'] as const;

// A small JSON reader: JSON.parse would round numbers (1.0 → 1, 1e3 → 1000) and so change the digest OPA computes.
function canonicalJson(path: string, text: string): string {
  let i = 0;
  const fail = (what: string): never => {
    throw new BundleError(`${path}: invalid JSON: ${what} at offset ${i}`);
  };
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  const str = (): string => {
    const start = i;
    i++;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        escaped = true;
        i += 2;
      } else i++;
    }
    i++;
    if (!escaped) return text.slice(start + 1, i - 1);
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string escape');
    }
  };
  const value = (depth: number): string => {
    if (depth > 10_000) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      // Later duplicates win, as in Go's decoder.
      const members = new Map<string, string>();
      ws();
      if (text[i] === '}') { i++; return '{}'; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const key = str();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        members.set(key, value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; break; }
        fail('expected "," or "}"');
      }
      return `{${sortedKeys([...members.keys()]).map((k) => `${goJsonString(k)}:${members.get(k)}`).join(',')}}`;
    }
    if (c === '[') {
      i++;
      const items: string[] = [];
      ws();
      if (text[i] === ']') { i++; return '[]'; }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; break; }
        fail('expected "," or "]"');
      }
      return `[${items.join(',')}]`;
    }
    if (c === '"') return goJsonString(str());
    for (const word of literals) {
      if (text.startsWith(word, i)) { i += word.length; return word; }
    }
    numberPattern.lastIndex = i;
    const m = numberPattern.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return m[0];
  };
  const canonical = value(0);
  ws();
  if (i !== text.length) fail('trailing content');
  return canonical;
}

// Go's encoding/json string form with HTML escaping off: what OPA's hasher feeds for keys and strings.
function goJsonString(s: string): string {
  if (!/[\ud800-\udfff\u2028\u2029]/.test(s)) return JSON.stringify(s);
  // Go decodes a lone surrogate escape to U+FFFD; JSON.stringify would write it back as an escape.
  const wellFormed = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return JSON.stringify(wellFormed).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}

// Go sorts keys by their UTF-8 bytes, which is code point order; UTF-16 order (JS's) only differs when
// surrogates are involved, so the byte comparison is kept for those.
function sortedKeys(keys: string[]): string[] {
  if (keys.some((k) => /[\ud800-\udfff]/.test(k))) return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
