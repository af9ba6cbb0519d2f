// semver.is_valid and semver.compare: SemVer 2.0.0 (an optional leading "v" tolerated, as OPA does).
import { BuiltinError, str } from './args.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

interface Version {
  core: [bigint, bigint, bigint];
  pre: string;
}

const IDENTIFIERS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const NUMERIC = /^(0|[1-9][0-9]*)$/;

function parse(text: string): Version | undefined {
  let v = text.startsWith('v') ? text.slice(1) : text;
  const plus = v.indexOf('+');
  if (plus >= 0) {
    if (!IDENTIFIERS.test(v.slice(plus + 1))) return undefined;
    v = v.slice(0, plus);
  }
  let pre = '';
  const dash = v.indexOf('-');
  if (dash >= 0) {
    pre = v.slice(dash + 1);
    if (!IDENTIFIERS.test(pre) || pre.split('.').some((id) => /^0[0-9]+$/.test(id))) return undefined;
    v = v.slice(0, dash);
  }
  const parts = v.split('.');
  if (parts.length !== 3 || !parts.every((p) => NUMERIC.test(p))) return undefined;
  const core = parts.map(BigInt) as [bigint, bigint, bigint];
  // Go parses each part as int64.
  if (core.some((n) => n > 0x7fffffffffffffffn)) return undefined;
  return { core, pre };
}

function cmp<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (i >= x.length) return -1;
    if (i >= y.length) return 1;
    const xn = /^[0-9]+$/.test(x[i]!);
    const yn = /^[0-9]+$/.test(y[i]!);
    if (xn !== yn) return xn ? -1 : 1;
    const c = xn ? cmp(BigInt(x[i]!), BigInt(y[i]!)) : cmp(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

function compare(a: unknown, b: unknown): number {
  const name = 'semver.compare';
  const x = parse(str(name, 1, a));
  if (!x) throw new BuiltinError(name, `operand 1: string ${a} is not a valid SemVer`);
  const y = parse(str(name, 2, b));
  if (!y) throw new BuiltinError(name, `operand 2: string ${b} is not a valid SemVer`);
  for (let i = 0; i < 3; i++) {
    const c = cmp(x.core[i]!, y.core[i]!);
    if (c !== 0) return c;
  }
  return comparePre(x.pre, y.pre);
}

export const semverBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'semver.compare',
    decl: fn([arg('a', t.string), arg('b', t.string)], arg('result', t.number)),
    host: compare,
  },
  {
    name: 'semver.is_valid',
    decl: fn([arg('vsn', t.any)], arg('result', t.boolean)),
    host: (v: unknown) => typeof v === 'string' && parse(v) !== undefined,
  },
];
