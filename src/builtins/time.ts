// time.* host builtins over go-time.ts. Instants are numbers of nanoseconds, beyond 2^53 for any date after
// 1970-04-15: the builtins taking one ask the host for their operands' number text (keepsNumberText) and
// read it as a bigint, so no digit is lost. Results go back exactly (exactInteger).
import { BuiltinError, exactInteger, int, str } from './args.js';
import { TimeError, WEEKDAYS, checkRange, daysIn, formatTime, fromCivil, loadZone, parseDuration, parseTime, toCivil, type Zone } from './go-time.js';
import { perEvaluation } from './per-evaluation.js';
import { NumberText, keepsNumberText } from './rego-value.js';
import { arg, fn, t, type BuiltinEntry } from './declarations.js';

/** Layout names OPA accepts in place of a layout. */
const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
};

/** Runs fn, reporting go-time errors as errors of the builtin. */
function guarded<T>(builtin: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TimeError) throw new BuiltinError(builtin, e.message);
    throw e;
  }
}

interface ZonedTime {
  ns: bigint;
  zone: Zone;
  layout: string;
}

/** A time operand: nanoseconds, or [nanoseconds, zone name, layout]. */
function zonedTime(builtin: string, v: unknown): ZonedTime {
  let nsValue: unknown = v;
  let zone = loadZone('');
  let layout = '';
  if (Array.isArray(v)) {
    if (v.length === 0) throw new BuiltinError(builtin, 'operand 1 must be either number (ns) or [number (ns), string (tz)]');
    nsValue = v[0];
    if (v.length > 1) zone = guarded(builtin, () => loadZone(str(builtin, 1, v[1])));
    if (v.length > 2) layout = str(builtin, 1, v[2]);
  } else if (typeof v !== 'number' && !(v instanceof NumberText)) {
    throw new BuiltinError(builtin, 'operand 1 must be either number (ns) or [number (ns), string (tz)]');
  }
  return { ns: nanoseconds(builtin, nsValue), zone, layout };
}

/** An instant operand, exact when it arrives as its number text. */
function nanoseconds(builtin: string, v: unknown): bigint {
  if (v instanceof NumberText && /^-?\d+$/.test(v.text)) {
    const ns = BigInt(v.text);
    if (ns >= 2n ** 63n || ns < -(2n ** 63n)) throw new BuiltinError(builtin, 'timestamp too big');
    return ns;
  }
  const n = v instanceof NumberText ? Number(v.text) : v;
  if (typeof n !== 'number') throw new BuiltinError(builtin, 'operand 1 must be number');
  if (!Number.isInteger(n) || Math.abs(n) >= 2 ** 63) throw new BuiltinError(builtin, 'timestamp too big');
  return BigInt(n);
}

/** Any other numeric operand of a builtin that keeps number text, as a JS number. */
function plainNumber(v: unknown): unknown {
  return v instanceof NumberText ? Number(v.text) : v;
}

function format(v: unknown): string {
  const name = 'time.format';
  const t = zonedTime(name, v);
  const layout = t.layout === '' ? NAMED_LAYOUTS.RFC3339Nano! : (NAMED_LAYOUTS[t.layout] ?? t.layout);
  return formatTime(t.ns, t.zone, layout);
}

function addDate(v: unknown, y: unknown, m: unknown, d: unknown): unknown {
  const name = 'time.add_date';
  const t = zonedTime(name, v);
  const c = toCivil(t.ns, t.zone);
  const ns = fromCivil(c.year + int(name, 2, plainNumber(y)), c.month + int(name, 3, plainNumber(m)), c.day + int(name, 4, plainNumber(d)), c.hour, c.minute, c.second, c.nanos, t.zone);
  return exactInteger(guarded(name, () => checkRange(ns)));
}

/** [years, months, days, hours, minutes, seconds] between two instants, computed as OPA does. */
function diff(a: unknown, b: unknown): number[] {
  const name = 'time.diff';
  const t1 = zonedTime(name, a);
  const t2 = zonedTime(name, b);
  const [x, y] = t1.ns <= t2.ns ? [t1.ns, t2.ns] : [t2.ns, t1.ns];
  const c1 = toCivil(x, t1.zone);
  const c2 = toCivil(y, t1.zone);
  let year = c2.year - c1.year;
  let month = c2.month - c1.month;
  let day = c2.day - c1.day;
  let hour = c2.hour - c1.hour;
  let min = c2.minute - c1.minute;
  let sec = c2.second - c1.second;
  if (sec < 0) {
    sec += 60;
    min--;
  }
  if (min < 0) {
    min += 60;
    hour--;
  }
  if (hour < 0) {
    hour += 24;
    day--;
  }
  if (day < 0) {
    day += daysIn(c1.month, c1.year);
    month--;
  }
  if (month < 0) {
    month += 12;
    year--;
  }
  return [year, month, day, hour, min, sec];
}

export const timeBuiltins: readonly BuiltinEntry[] = [
  {
    name: 'time.add_date',
    decl: fn([arg('ns', t.number), arg('years', t.number), arg('months', t.number), arg('days', t.number)], arg('output', t.number)),
    host: keepsNumberText(addDate),
  },
  {
    name: 'time.clock',
    decl: fn([arg('x', t.anyOf(t.number, t.tuple(t.number, t.string)))], arg('output', t.tuple(t.number, t.number, t.number))),
    host: keepsNumberText((v: unknown) => {
      const t = zonedTime('time.clock', v);
      const c = toCivil(t.ns, t.zone);
      return [c.hour, c.minute, c.second];
    }),
  },
  {
    name: 'time.date',
    decl: fn([arg('x', t.anyOf(t.number, t.tuple(t.number, t.string)))], arg('date', t.tuple(t.number, t.number, t.number))),
    host: keepsNumberText((v: unknown) => {
      const t = zonedTime('time.date', v);
      const c = toCivil(t.ns, t.zone);
      return [c.year, c.month, c.day];
    }),
  },
  {
    name: 'time.diff',
    decl: fn([arg('ns1', t.anyOf(t.number, t.tuple(t.number, t.string))), arg('ns2', t.anyOf(t.number, t.tuple(t.number, t.string)))], arg('output', t.tuple(t.number, t.number, t.number, t.number, t.number, t.number))),
    host: keepsNumberText(diff),
  },
  {
    name: 'time.format',
    decl: fn([arg('x', t.anyOf(t.number, t.tuple(t.number, t.string), t.tuple(t.number, t.string, t.string)))], arg('formatted timestamp', t.string)),
    host: keepsNumberText(format),
  },
  {
    name: 'time.now_ns',
    decl: fn([], arg('now', t.number)),
    nondeterministic: true,
    host: () => exactInteger(perEvaluation('time.now_ns', [], () => BigInt(Date.now()) * 1_000_000n)),
  },
  {
    name: 'time.parse_duration_ns',
    decl: fn([arg('duration', t.string)], arg('ns', t.number)),
    host: (value: unknown) => {
      const name = 'time.parse_duration_ns';
      const s = str(name, 1, value);
      return exactInteger(guarded(name, () => parseDuration(s, /[dwy]/.test(s))));
    },
  },
  {
    name: 'time.parse_ns',
    decl: fn([arg('layout', t.string), arg('value', t.string)], arg('ns', t.number)),
    host: (layout: unknown, value: unknown) => {
      const name = 'time.parse_ns';
      const l = str(name, 1, layout);
      return exactInteger(guarded(name, () => checkRange(parseTime(NAMED_LAYOUTS[l] ?? l, str(name, 2, value)))));
    },
  },
  {
    name: 'time.parse_rfc3339_ns',
    decl: fn([arg('value', t.string)], arg('ns', t.number)),
    host: (value: unknown) => {
      const name = 'time.parse_rfc3339_ns';
      return exactInteger(guarded(name, () => checkRange(parseTime(NAMED_LAYOUTS.RFC3339!, str(name, 1, value)))));
    },
  },
  {
    name: 'time.weekday',
    decl: fn([arg('x', t.anyOf(t.number, t.tuple(t.number, t.string)))], arg('day', t.string)),
    host: keepsNumberText((v: unknown) => {
      const t = zonedTime('time.weekday', v);
      return WEEKDAYS[toCivil(t.ns, t.zone).weekday];
    }),
  },
];
