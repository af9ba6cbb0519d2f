// Values printed the way OPA (a Go program) prints them, so output can be compared with OPA's as text.
import { writeJson } from '../json/writer.js';

/** Go's time.Duration.String(): 0s, 850ns, 296.462µs, 1.13488ms, 2.5s, 1m30s, 1h0m0.5s. */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return '0s';
  if (ns < 0) return `-${goDuration(-ns)}`;
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${decimal(ns, 1e3, 3)}µs`;
  if (ns < 1e9) return `${decimal(ns, 1e6, 6)}ms`;
  const hours = Math.floor(ns / 3.6e12);
  const minutes = Math.floor((ns % 3.6e12) / 6e10);
  const seconds = `${decimal(ns % 6e10, 1e9, 9)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

function decimal(value: number, unit: number, digits: number): string {
  const whole = Math.floor(value / unit);
  const fraction = String(value % unit).padStart(digits, '0').replace(/0+$/, '');
  return fraction === '' ? String(whole) : `${whole}.${fraction}`;
}

/** Go's errors list: "1 error occurred: X" or "N errors occurred:\nX\nY". */
export function goErrorList(items: string[], suffix = ''): string {
  if (items.length === 1) return `1 error occurred${suffix}: ${items[0]}`;
  return [`${items.length} errors occurred${suffix}:`, ...items].join('\n');
}

/**
 * JSON as Go's encoding/json writes it: <, > and & escaped (inside strings, the only place they occur), and
 * numbers kept as NumberText (big integers, -0) printed exactly, as OPA prints them.
 */
export function goJson(value: unknown, indent?: number): string {
  return writeJson(value, indent);
}
