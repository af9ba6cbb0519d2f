// A seeded generator of request bodies for the differential fuzz test (test/server/body-fuzz.test.ts runs a
// small fixed slice in `npm test`, scripts/fuzz.ts runs as many as asked under `npm run fuzz`): numbers at
// the edges of doubles, duplicate keys, nesting around Go's 10,000-level limit, unicode escapes and raw
// bytes, broken JSON, and content types. Both servers get the same bytes and must answer alike.
import { send, type RawResponse } from './harness.js';
import { prng } from '../compiler/fuzz-corpus.js';

export interface FuzzCase {
  method: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** What the generator meant to exercise, for the failure message. */
  kind: string;
}

type Rand = () => number;
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const digits = (r: Rand, n: number) => Array.from({ length: n }, (_, i) => String(i === 0 ? int(r, 1, 9) : int(r, 0, 9))).join('');

function numberText(r: Rand): string {
  switch (int(r, 0, 9)) {
    case 0: return digits(r, int(r, 1, 40));
    case 1: return `-${digits(r, int(r, 1, 40))}`;
    case 2: return `${digits(r, int(r, 1, 5))}.${digits(r, int(r, 1, 25))}`;
    case 3: return `${int(r, 1, 9)}${pick(r, ['e', 'E'])}${pick(r, ['', '+', '-'])}${int(r, 0, 500)}`;
    case 4: return pick(r, ['-0', '0', '0.0', '-0.0', '1.0', '1.50', '1E2', '1e400', '-1e400', '1e-400', '4.9e-324', '1.7976931348623157e308', '9007199254740993']);
    case 5: return String(int(r, -1000, 1000));
    case 6: return `0.${'0'.repeat(int(r, 0, 30))}${digits(r, int(r, 1, 5))}`;
    default: return String(r() * 10 ** int(r, -10, 25));
  }
}

function stringText(r: Rand): string {
  const parts: string[] = [];
  for (let i = int(r, 0, 6); i > 0; i--) {
    parts.push(
      pick(r, [
        'plain', 'é', '日本', '😀', '<&>', '\u2028', '\\"', '\\\\', '\\/', '\\n', '\\t', '\\b\\f\\r',
        '\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\udc00', '\\ud800x', '\\u0000', '\\u001f', '\\u007f', '\\uFFFF', '\\uD834\\uDD1E',
      ]),
    );
  }
  return `"${parts.join('')}"`;
}

function keyText(r: Rand): string {
  return pick(r, ['"a"', '"b"', '"input"', '"é"', '"__proto__"', '""', '"a\\u0062"', '"constructor"', stringText(r)]);
}

function valueText(r: Rand, depth: number): string {
  const kind = depth > 4 ? int(r, 0, 3) : int(r, 0, 6);
  switch (kind) {
    case 0: return numberText(r);
    case 1: return stringText(r);
    case 2: return pick(r, ['true', 'false', 'null']);
    case 3: return numberText(r);
    case 4: return `[${Array.from({ length: int(r, 0, 4) }, () => valueText(r, depth + 1)).join(',')}]`;
    default: {
      // Keys drawn from a small set, so duplicates are frequent.
      const members = Array.from({ length: int(r, 0, 5) }, () => `${keyText(r)}:${valueText(r, depth + 1)}`);
      return `{${members.join(pick(r, [',', ' , ', ',\n']))}}`;
    }
  }
}

function nested(r: Rand): string {
  // Up to 10,000 levels with the envelope both servers answer (9,999 is the deepest input the v1 envelope
  // allows); beyond it both refuse the body.
  const depth = pick(r, [int(r, 1, 100), int(r, 4_000, 9_999), int(r, 9_990, 9_999), int(r, 10_001, 10_003), 100_000]);
  const [open, close] = r() < 0.5 ? ['[', ']'] : ['{"k":', '}'];
  return open.repeat(depth) + numberText(r) + close.repeat(depth);
}

function broken(r: Rand, text: string): string {
  switch (int(r, 0, 5)) {
    case 0: return text.slice(0, int(r, 0, Math.max(0, text.length - 1)));
    case 1: return text + pick(r, ['', ' ', 'x', '}', ',', '\n{}']);
    case 2: {
      const at = int(r, 0, text.length);
      return text.slice(0, at) + pick(r, ['\u0001', ',', ':', '"', '\\', '01', '.', 'e', '+', 'tru', 'nul']) + text.slice(at);
    }
    case 3: return pick(r, ['', ' ', '\ufeff{"input":1}', 'null', '[]', '"s"', '5', '{"input"}', '{"input":}', '{,}', '{"input":1,}', '[1,]', '{"input":01}', '{"input":.5}', '{"input":+1}', '{"input":1.}', '{"input":1e}', '{"input":NaN}', '{"input":Infinity}']);
    default: return text;
  }
}

const contentTypes = [undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream'];

/** The `n`th case of the sequence for `seed`. */
export function fuzzCases(seed: number, count: number): FuzzCase[] {
  const r = prng(seed);
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    const kind = pick(r, ['value', 'value', 'duplicates', 'depth', 'broken', 'bytes']);
    let input: string;
    if (kind === 'depth') input = nested(r);
    else input = valueText(r, 0);
    let text: string;
    if (kind === 'duplicates') text = `{"input":${valueText(r, 0)},${keyText(r)}:${valueText(r, 1)},"input":${input}}`;
    else text = `{"input":${input}}`;
    if (kind === 'broken') text = broken(r, text);
    let body = Buffer.from(text, 'utf8');
    if (kind === 'bytes') {
      // Raw bytes that are not UTF-8, inside a string: both servers read them as U+FFFD.
      const at = text.indexOf('"', text.indexOf(':'));
      body = at < 0 ? body : Buffer.concat([Buffer.from(text.slice(0, at + 1)), Buffer.from([pick(r, [0xff, 0xc3, 0xe2, 0x80, 0xed])]), Buffer.from(text.slice(at + 1))]);
    }
    const v0 = r() < 0.2;
    if (v0 && kind !== 'broken') body = Buffer.from(input, 'utf8');
    const contentType = pick(r, contentTypes);
    cases.push({
      method: 'POST',
      path: v0 ? '/v0/data/fuzz/echo' : pick(r, ['/v1/data/fuzz/echo', '/v1/data/fuzz/echo', '/v1/data/fuzz/n']),
      body,
      headers: contentType ? { 'Content-Type': contentType } : {},
      kind,
    });
  }
  return cases;
}

export const fuzzPolicy = `package fuzz

echo := input

n := count(input) if is_array(input)
`;

/** The decision id is Verdict's own (OPA has none without a decision log); everything else must match. */
function comparable(res: RawResponse): { status: number; body: string; code?: string } {
  const text = res.body.toString('utf8');
  if (res.status === 200) return { status: 200, body: text.replace(/"decision_id":"[^"]*",?/, '') };
  // Errors: the status and OPA's error code; the wording of parser messages may differ.
  try {
    return { status: res.status, body: '', code: (JSON.parse(text) as { code?: string }).code };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Sends one case to both servers; returns a description of the difference, or undefined when alike. */
export async function compareCase(opaUrl: string, verdictUrl: string, c: FuzzCase): Promise<string | undefined> {
  const [theirs, ours] = await Promise.all([send(opaUrl, c.method, c.path, c.body, c.headers), send(verdictUrl, c.method, c.path, c.body, c.headers)]);
  const [t, o] = [comparable(theirs), comparable(ours)];
  if (t.status === o.status && t.body === o.body && t.code === o.code) return undefined;
  const shown = (b: Buffer) => JSON.stringify(b.toString('utf8').slice(0, 300));
  return `${c.kind} ${c.method} ${c.path} ${JSON.stringify(c.headers)} body ${shown(c.body)}\n  OPA:     ${theirs.status} ${shown(theirs.body)}\n  Verdict: ${ours.status} ${shown(ours.body)}`;
}
