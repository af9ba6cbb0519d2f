// `!!timestamp` scalars as OPA reads them: Go's YAML decoder parses the text with time.Parse in one of four
// layouts (RFC 3339 with short date and time fields and `T` or `t`; the same with a space and no zone; a date
// alone), and the JSON conversion writes the time.Time it makes in RFC 3339 with nanoseconds: `2001-12-14t21:59:43.10-05:00`
// becomes "2001-12-14T21:59:43.1-05:00", `2001-12-14` "2001-12-14T00:00:00Z". An untagged timestamp stays a
// string (OPA re-tags those), so only tagged ones come here.
import { daysIn } from '../builtins/go-time.js';

/** Go's getnum(s, false): one or two digits. */
const NUM = '(\\d\\d?)';
const DATE = `(\\d{4})-${NUM}-${NUM}`;
const TIME = `${NUM}:${NUM}:${NUM}(?:[.,](\\d+))?`;
/** The layouts Go's decoder tries, in its order; a space in a layout matches any run of spaces. */
const LAYOUTS = [
  new RegExp(`^${DATE}[Tt]${TIME}(?:(Z)|([-+])(\\d\\d):(\\d\\d))$`),
  new RegExp(`^${DATE} +${TIME}$`),
  new RegExp(`^${DATE}$`),
];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The JSON text Go gives a `!!timestamp` scalar's time, or undefined where time.Parse refuses every layout. */
export function goTimestamp(text: string): string | undefined {
  if (!/^\d{4}-/.test(text)) return undefined;
  for (const layout of LAYOUTS) {
    const m = layout.exec(text);
    if (!m) continue;
    const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x))) as number[];
    if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(month!, year!)) continue;
    if (hour > 23 || minute > 59 || second > 59) continue;
    const [fraction, sign, zoneHour, zoneMinute] = [m[7], m[9], m[10], m[11]];
    let zone = 'Z';
    if (sign !== undefined) {
      const hours = Number(zoneHour);
      const minutes = Number(zoneMinute);
      if (hours > 24 || minutes > 60) continue;
      if (hours !== 0 || minutes !== 0) zone = `${sign}${zoneHour}:${zoneMinute}`;
    }
    // Nanoseconds: Go reads nine digits at most, and writes them without trailing zeros.
    const nanos = (fraction ?? '').slice(0, 9).padEnd(9, '0').replace(/0+$/, '');
    return `${pad(year!, 4)}-${pad(month!)}-${pad(day!)}T${pad(hour)}:${pad(minute)}:${pad(second)}${nanos ? `.${nanos}` : ''}${zone}`;
  }
  return undefined;
}
