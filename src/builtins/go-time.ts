// Go's time package as OPA's time.* builtins observe it: instants as int64 nanoseconds, IANA zones
// (offsets from Intl), and Go's reference-time layouts ("2006-01-02T15:04:05Z07:00") for both Parse and
// Format. Civil-date arithmetic is proleptic Gregorian, as in Go.

export class TimeError extends Error {}

const NS_PER_SECOND = 1_000_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Days since 1970-01-01 of a civil date (month 1-12; out-of-range months and days normalise). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y0 = year + Math.floor((month - 1) / 12);
  const m0 = (((month - 1) % 12) + 12) % 12 + 1;
  const y = m0 <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (m0 + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5);
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468 + (day - 1);
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysIn(month: number, year: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** A time zone: "UTC", "Local" or an IANA name. */
export interface Zone {
  name: string;
  /** Offset east of UTC in seconds at the instant `unixSeconds`. */
  offsetAt(unixSeconds: number): number;
  abbreviationAt(unixSeconds: number): string;
}

export const UTC: Zone = { name: 'UTC', offsetAt: () => 0, abbreviationAt: () => 'UTC' };

const zones = new Map<string, Zone>();

function intlZone(name: string): Zone {
  let fmt: Intl.DateTimeFormat;
  let abbr: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    abbr = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'short' });
  } catch {
    throw new TimeError(`unknown time zone ${name}`);
  }
  return {
    name,
    offsetAt(unixSeconds: number): number {
      const parts: Record<string, string> = {};
      for (const p of fmt.formatToParts(new Date(unixSeconds * 1000))) parts[p.type] = p.value;
      const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
      const local = daysFromCivil(year, Number(parts.month), Number(parts.day)) * 86400 + Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
      return local - unixSeconds;
    },
    abbreviationAt(unixSeconds: number): string {
      const part = abbr.formatToParts(new Date(unixSeconds * 1000)).find((p) => p.type === 'timeZoneName');
      return part?.value ?? name;
    },
  };
}

/** time.LoadLocation: "" and "UTC" are UTC, "Local" the process zone, anything else an IANA name. */
export function loadZone(name: string): Zone {
  if (name === '' || name === 'UTC') return UTC;
  const iana = name === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : name;
  let zone = zones.get(iana);
  if (!zone) {
    zone = intlZone(iana);
    zones.set(iana, zone);
  }
  return zone;
}

/** Fixed-offset zone from a parsed "-0700" (named like Go's fabricated zones). */
function fixedZone(offset: number, name = ''): Zone {
  return { name, offsetAt: () => offset, abbreviationAt: () => name };
}

/** A broken-down time in a zone. */
export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number;
  yearDay: number;
  offset: number;
  zone: Zone;
}

function splitNs(ns: bigint): { seconds: number; nanos: number } {
  let s = ns / NS_PER_SECOND;
  let n = ns % NS_PER_SECOND;
  if (n < 0n) {
    n += NS_PER_SECOND;
    s -= 1n;
  }
  return { seconds: Number(s), nanos: Number(n) };
}

export function toCivil(ns: bigint, zone: Zone): Civil {
  const { seconds, nanos } = splitNs(ns);
  const offset = zone.offsetAt(seconds);
  const local = seconds + offset;
  const days = Math.floor(local / 86400);
  const secOfDay = local - days * 86400;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    second: secOfDay % 60,
    nanos,
    weekday: (((days + 4) % 7) + 7) % 7,
    yearDay: days - daysFromCivil(year, 1, 1) + 1,
    offset,
    zone,
  };
}

/** Go's time.Date: normalises every field, then finds the zone offset in force at that local time. */
export function fromCivil(year: number, month: number, day: number, hour: number, minute: number, second: number, nanos: number, zone: Zone): bigint {
  const local = BigInt(daysFromCivil(year, month, 1) + day - 1) * 86400n + BigInt(hour * 3600 + minute * 60 + second);
  const guess = Number(local) - zone.offsetAt(Number(local));
  const offset = zone.offsetAt(guess);
  return (local - BigInt(offset)) * NS_PER_SECOND + BigInt(nanos);
}

/** OPA refuses instants that do not fit int64 nanoseconds. */
export function checkRange(ns: bigint): bigint {
  if (ns < INT64_MIN || ns > INT64_MAX) throw new TimeError('time outside of valid range');
  return ns;
}

type Std =
  | 'Jan' | 'January' | '1' | '01' | 'Mon' | 'Monday' | '2' | '_2' | '02' | '__2' | '002'
  | '15' | '3' | '03' | '4' | '04' | '5' | '05' | '2006' | '06' | 'PM' | 'pm' | 'MST'
  | 'Z0700' | 'Z070000' | 'Z07' | 'Z07:00' | 'Z07:00:00' | '-0700' | '-070000' | '-07' | '-07:00' | '-07:00:00'
  | 'frac0' | 'frac9';

interface Chunk {
  prefix: string;
  std?: Std;
  /** Digits of a fractional-second chunk. */
  digits?: number;
  /** The separator of a fractional-second chunk ('.' or ','). */
  sep?: string;
  rest: string;
}

/** Go's nextStdChunk: the literal text before the first layout element, the element, and what follows. */
function nextChunk(layout: string): Chunk {
  const isDigit = (i: number) => i < layout.length && layout[i]! >= '0' && layout[i]! <= '9';
  const at = (i: number, s: string) => layout.startsWith(s, i);
  for (let i = 0; i < layout.length; i++) {
    const found = (std: Std, len: number): Chunk => ({ prefix: layout.slice(0, i), std, rest: layout.slice(i + len) });
    switch (layout[i]) {
      case 'J':
        if (at(i, 'January')) return found('January', 7);
        if (at(i, 'Jan')) return found('Jan', 3);
        break;
      case 'M':
        if (at(i, 'Monday')) return found('Monday', 6);
        if (at(i, 'Mon')) return found('Mon', 3);
        if (at(i, 'MST')) return found('MST', 3);
        break;
      case '0':
        if (at(i, '002')) return found('002', 3);
        if (layout[i + 1] !== undefined && '123456'.includes(layout[i + 1]!)) return found(`0${layout[i + 1]}` as Std, 2);
        break;
      case '1':
        if (at(i, '15')) return found('15', 2);
        return found('1', 1);
      case '2':
        if (at(i, '2006')) return found('2006', 4);
        return found('2', 1);
      case '_':
        if (at(i, '_2')) {
          // "_2006" is a literal underscore followed by a year.
          if (at(i + 1, '2006')) return { prefix: layout.slice(0, i + 1), std: '2006', rest: layout.slice(i + 5) };
          return found('_2', 2);
        }
        if (at(i, '__2')) return found('__2', 3);
        break;
      case '3':
      case '4':
      case '5':
        return found(layout[i] as Std, 1);
      case 'P':
        if (at(i, 'PM')) return found('PM', 2);
        break;
      case 'p':
        if (at(i, 'pm')) return found('pm', 2);
        break;
      case '-':
        for (const s of ['-070000', '-07:00:00', '-0700', '-07:00', '-07'] as const) if (at(i, s)) return found(s, s.length);
        break;
      case 'Z':
        for (const s of ['Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'] as const) if (at(i, s)) return found(s, s.length);
        break;
      case '.':
      case ',':
        if (layout[i + 1] === '0' || layout[i + 1] === '9') {
          const ch = layout[i + 1]!;
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigit(j)) {
            return { prefix: layout.slice(0, i), std: ch === '0' ? 'frac0' : 'frac9', digits: j - (i + 1), sep: layout[i]!, rest: layout.slice(j) };
          }
        }
        break;
    }
  }
  return { prefix: layout, rest: '' };
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function formatOffset(offset: number, std: Std): string {
  if (std.startsWith('Z') && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor((abs % 3600) / 60), 2);
  const ss = pad(abs % 60, 2);
  const shape = std.slice(1);
  if (shape === '07') return `${sign}${hh}`;
  if (shape === '0700') return `${sign}${hh}${mm}`;
  if (shape === '07:00') return `${sign}${hh}:${mm}`;
  if (shape === '070000') return `${sign}${hh}${mm}${ss}`;
  return `${sign}${hh}:${mm}:${ss}`;
}

/** Go's Time.Format. */
export function formatTime(ns: bigint, zone: Zone, layout: string): string {
  const t = toCivil(ns, zone);
  let out = '';
  for (let rest = layout; rest !== ''; ) {
    const c = nextChunk(rest);
    out += c.prefix;
    rest = c.rest;
    if (!c.std) break;
    switch (c.std) {
      case '2006': out += pad(t.year, 4); break;
      case '06': out += pad(((t.year % 100) + 100) % 100, 2); break;
      case 'Jan': out += MONTHS[t.month - 1]!.slice(0, 3); break;
      case 'January': out += MONTHS[t.month - 1]; break;
      case '1': out += String(t.month); break;
      case '01': out += pad(t.month, 2); break;
      case 'Mon': out += WEEKDAYS[t.weekday]!.slice(0, 3); break;
      case 'Monday': out += WEEKDAYS[t.weekday]; break;
      case '2': out += String(t.day); break;
      case '_2': out += String(t.day).padStart(2, ' '); break;
      case '02': out += pad(t.day, 2); break;
      case '__2': out += String(t.yearDay).padStart(3, ' '); break;
      case '002': out += pad(t.yearDay, 3); break;
      case '15': out += pad(t.hour, 2); break;
      case '3': out += String(t.hour % 12 === 0 ? 12 : t.hour % 12); break;
      case '03': out += pad(t.hour % 12 === 0 ? 12 : t.hour % 12, 2); break;
      case '4': out += String(t.minute); break;
      case '04': out += pad(t.minute, 2); break;
      case '5': out += String(t.second); break;
      case '05': out += pad(t.second, 2); break;
      case 'PM': out += t.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += t.hour >= 12 ? 'pm' : 'am'; break;
      case 'MST': {
        const { seconds } = splitNs(ns);
        const name = zone.abbreviationAt(seconds);
        out += name !== '' ? name : formatOffset(t.offset, '-0700');
        break;
      }
      case 'frac0': out += c.sep + pad(t.nanos, 9).slice(0, c.digits); break;
      case 'frac9': {
        const digits = pad(t.nanos, 9).slice(0, c.digits).replace(/0+$/, '');
        if (digits !== '') out += c.sep + digits;
        break;
      }
      default: out += formatOffset(t.offset, c.std);
    }
  }
  return out;
}

/** Go's time.Parse (no default location: a time without offset is UTC). */
export function parseTime(layout: string, input: string): bigint {
  const fail = (why = ''): never => {
    throw new TimeError(`parsing time ${JSON.stringify(input)} as ${JSON.stringify(layout)}: cannot parse${why}`);
  };
  let value = input;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  let zoneName: string | undefined;

  const num = (fixed: boolean, min: number, max: number): number => {
    const m = /^[0-9]{1,2}/.exec(value);
    if (!m || (fixed && m[0].length !== 2)) fail();
    const n = Number(m![0]);
    if (n < min || n > max) fail(': value out of range');
    value = value.slice(m![0].length);
    return n;
  };
  const lookup = (names: string[], len?: number): number => {
    const i = names.findIndex((n) => {
      const want = len ? n.slice(0, len) : n;
      return value.slice(0, want.length).toLowerCase() === want.toLowerCase();
    });
    if (i < 0) fail();
    value = value.slice(len ?? names[i]!.length);
    return i;
  };
  const fraction = (digits: number): number => {
    const text = value.slice(1, 1 + digits);
    if (!/^[0-9]+$/.test(text)) fail();
    value = value.slice(1 + digits);
    return Number(text.padEnd(9, '0').slice(0, 9));
  };

  for (let rest = layout; ; ) {
    const c = nextChunk(rest);
    if (!value.startsWith(c.prefix)) fail();
    value = value.slice(c.prefix.length);
    rest = c.rest;
    if (!c.std) break;
    switch (c.std) {
      case '2006': {
        const m = /^[0-9]{4}/.exec(value);
        if (!m) fail();
        year = Number(m![0]);
        value = value.slice(4);
        break;
      }
      case '06': {
        const m = /^[0-9]{2}/.exec(value);
        if (!m) fail();
        const y = Number(m![0]);
        year = y >= 69 ? 1900 + y : 2000 + y;
        value = value.slice(2);
        break;
      }
      case 'Jan': month = lookup(MONTHS, 3) + 1; break;
      case 'January': month = lookup(MONTHS) + 1; break;
      case '1': case '01': month = num(c.std === '01', 1, 12); break;
      case 'Mon': lookup(WEEKDAYS, 3); break;
      case 'Monday': lookup(WEEKDAYS); break;
      case '2': case '_2': case '02':
        if (c.std === '_2' && value.startsWith(' ')) value = value.slice(1);
        day = num(c.std === '02', 1, 31);
        break;
      case '__2': case '002': {
        if (c.std === '__2') value = value.replace(/^ {1,2}/, '');
        const m = c.std === '002' ? /^[0-9]{3}/.exec(value) : /^[0-9]{1,3}/.exec(value);
        if (!m) fail();
        yday = Number(m![0]);
        value = value.slice(m![0].length);
        if (yday < 1 || yday > 366) fail(': day-of-year out of range');
        break;
      }
      case '15': hour = num(false, 0, 23); break;
      case '3': case '03': hour = num(c.std === '03', 1, 12); break;
      case '4': case '04': minute = num(c.std === '04', 0, 59); break;
      case '5': case '05': {
        second = num(c.std === '05', 0, 59);
        // A fraction after the seconds is accepted even when the layout has none.
        if (/^[.,][0-9]/.test(value) && !['frac0', 'frac9'].includes(nextChunk(rest).std ?? '')) {
          const m = /^[.,][0-9]+/.exec(value)!;
          nanos = fraction(m[0].length - 1);
        }
        break;
      }
      case 'PM': case 'pm': {
        const ampm = value.slice(0, 2);
        const want = c.std === 'PM' ? ['AM', 'PM'] : ['am', 'pm'];
        if (!want.includes(ampm)) fail();
        pm = ampm === want[1];
        value = value.slice(2);
        break;
      }
      case 'MST': {
        const m = /^(UTC|GMT[+-][0-9]{1,2}|[A-Z]{3,5})/.exec(value);
        if (!m) fail();
        zoneName = m![0];
        value = value.slice(zoneName!.length);
        const gmt = /^GMT([+-][0-9]+)$/.exec(zoneName!);
        offset ??= gmt ? Number(gmt[1]) * 3600 : undefined;
        break;
      }
      case 'frac0': {
        if (!value.startsWith('.') && !value.startsWith(',')) fail();
        nanos = fraction(c.digits!);
        break;
      }
      case 'frac9': {
        const m = /^[.,][0-9]+/.exec(value);
        if (m) nanos = fraction(m[0].length - 1);
        break;
      }
      default: {
        if (c.std.startsWith('Z') && value.startsWith('Z')) {
          value = value.slice(1);
          offset = 0;
          zoneName = 'UTC';
          break;
        }
        const shape = c.std.slice(1);
        const pattern = {
          '07': /^([+-])([0-9]{2})/,
          '0700': /^([+-])([0-9]{2})([0-9]{2})/,
          '07:00': /^([+-])([0-9]{2}):([0-9]{2})/,
          '070000': /^([+-])([0-9]{2})([0-9]{2})([0-9]{2})/,
          '07:00:00': /^([+-])([0-9]{2}):([0-9]{2}):([0-9]{2})/,
        }[shape]!;
        const m = pattern.exec(value);
        if (!m) fail();
        const [, sign, hh, mm = '0', ss = '0'] = m!;
        const secs = Number(hh) * 3600 + Number(mm) * 60 + Number(ss);
        offset = sign === '-' ? -secs : secs;
        value = value.slice(m![0].length);
      }
    }
  }
  if (value !== '') fail(`: extra text: ${JSON.stringify(value)}`);
  if (pm === true && hour < 12) hour += 12;
  else if (pm === false && hour === 12) hour = 0;
  if (yday >= 0) {
    const civil = civilFromDays(daysFromCivil(year, 1, 1) + yday - 1);
    if (civil.year !== year || (month >= 0 && month !== civil.month) || (day >= 0 && day !== civil.day)) fail(': day-of-year does not match');
    month = civil.month;
    day = civil.day;
  }
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (day > daysIn(month, year)) fail(': day out of range');
  const zone = offset !== undefined ? fixedZone(offset, zoneName) : UTC;
  return fromCivil(year, month, day, hour, minute, second, nanos, zone);
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};

/** Go's time.ParseDuration, plus OPA's d (24h), w (7d) and y (365d) units. */
export function parseDuration(text: string, extended: boolean): bigint {
  const fail = (): never => {
    throw new TimeError(`time: invalid duration ${JSON.stringify(text)}`);
  };
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') fail();
  const units = extended ? { ...DURATION_UNITS, d: 24n * DURATION_UNITS.h!, w: 168n * DURATION_UNITS.h!, y: 8760n * DURATION_UNITS.h! } : DURATION_UNITS;
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?([a-zµμ]+)/.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) fail();
    const unit = units[m![3]!];
    if (unit === undefined) throw new TimeError(`time: unknown unit ${JSON.stringify(m![3])} in duration ${JSON.stringify(text)}`);
    total += BigInt(m![1] || '0') * unit;
    const frac = m![2] ?? '';
    if (frac !== '') total += BigInt(Math.trunc(Number(frac) * (Number(unit) / 10 ** frac.length)));
    if (total > INT64_MAX) fail();
    s = s.slice(m![0].length);
  }
  return negative ? -total : total;
}
