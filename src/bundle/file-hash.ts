// Digests of bundle files as OPA's bundle signatures define them (docs: management-bundles, "Signature format").
// data.json, data.yaml/data.yml and .manifest are hashed over a canonical form of their parsed value (object keys
// sorted, no whitespace, numbers as written), so re-formatting a JSON file does not break its signature; every
// other file is hashed as raw bytes.
import { createHash, type Hash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
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
  if (!isStructuredBundleFile(path)) {
    hash.update(data);
  } else {
    const value = /\.ya?ml$/.test(path) ? yamlValue(path, data) : parseJsonKeepingNumbers(path, data.toString('utf8'));
    const out = new ChunkedWriter(hash);
    writeCanonical(value, out);
    out.flush();
  }
  return hash.digest('hex');
}

/** A number kept as the literal text of the source, as Go's decoder with UseNumber keeps it. */
class NumberLiteral {
  constructor(readonly text: string) {}
}

type Canonical = null | boolean | string | NumberLiteral | Canonical[] | Map<string, Canonical>;

function yamlValue(path: string, data: Buffer): Canonical {
  let parsed: unknown;
  try {
    parsed = parseYaml(data.toString('utf8'));
  } catch (err) {
    throw new BundleError(`${path}: invalid YAML: ${(err as Error).message}`);
  }
  return fromPlain(parsed ?? null);
}

function fromPlain(v: unknown): Canonical {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return new NumberLiteral(JSON.stringify(v));
  if (typeof v === 'bigint') return new NumberLiteral(v.toString());
  if (Array.isArray(v)) return v.map(fromPlain);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return new Map(Object.entries(v as object).map(([k, x]) => [k, fromPlain(x)]));
  return null;
}

// Small JSON parser: JSON.parse would round numbers (1.0 → 1, 1e3 → 1000) and so change the digest OPA computes.
function parseJsonKeepingNumbers(path: string, text: string): Canonical {
  let i = 0;
  const fail = (what: string): never => {
    throw new BundleError(`${path}: invalid JSON: ${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad string');
    }
  };
  const value = (depth: number): Canonical => {
    if (depth > 10_000) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, Canonical>();
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const key = str();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        obj.set(key, value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: Canonical[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return new NumberLiteral(m[0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing content');
  return v;
}

// Go's encoding/json string form with HTML escaping off: what OPA's hasher feeds for keys and strings.
function goJsonString(s: string): string {
  // Go decodes a lone surrogate escape to U+FFFD; JSON.stringify would write it back as an escape.
  const wellFormed = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return JSON.stringify(wellFormed).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function writeCanonical(v: Canonical, out: ChunkedWriter): void {
  if (v === null) out.write('null');
  else if (typeof v === 'boolean') out.write(v ? 'true' : 'false');
  else if (typeof v === 'string') out.write(goJsonString(v));
  else if (v instanceof NumberLiteral) out.write(v.text);
  else if (Array.isArray(v)) {
    out.write('[');
    v.forEach((x, n) => {
      if (n > 0) out.write(',');
      writeCanonical(x, out);
    });
    out.write(']');
  } else {
    out.write('{');
    [...v.keys()].sort(byUtf8).forEach((k, n) => {
      if (n > 0) out.write(',');
      out.write(goJsonString(k));
      out.write(':');
      writeCanonical(v.get(k)!, out);
    });
    out.write('}');
  }
}

/** Batches many small writes into few hash updates. */
class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly hash: Hash) {}
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 65536) this.flush();
  }
  flush(): void {
    this.hash.update(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
  }
}
