// pino logging in OPA's shape, so a pipeline that parses `opa run` logs parses Verdict's: one JSON object a
// line with `level` as a name ("info"; "warning" as OPA spells it), `msg`, and `time` in RFC 3339 to the second.
// `--log-format json-pretty` indents each record; `text` renders the same records as readable lines.
// Nothing on the request path logs inputs, headers or tokens (see server/request-log.ts).
import { Writable } from 'node:stream';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { stderrStream } from './stderr.js';
import { cloneJson } from '../json/clone.js';
import { readJson } from '../json/reader.js';
import { mayHaveIntegerKeyFirst, writeJson } from '../json/writer.js';

export const logFormats = ['json', 'json-pretty', 'text'] as const;
export type LogFormat = (typeof logFormats)[number];

export const logLevels: LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The record's time as OPA's logger (logrus, RFC 3339) writes it: to the second. */
const rfc3339Seconds = () => `,"time":"${new Date().toISOString().slice(0, 19)}Z"`;

/** OPA's (logrus's) names for the levels, where they differ from pino's. */
const levelNames: Record<string, string> = { warn: 'warning' };

export function createLogger(level: LevelWithSilent, format: LogFormat, out: NodeJS.WritableStream = stderrStream()): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: rfc3339Seconds,
    formatters: { level: (label) => ({ level: levelNames[label] ?? label }) },
    hooks: { streamWrite: inGoKeyOrder },
  };
  if (format === 'json') return pino(options, out as pino.DestinationStream);
  return pino(options, reformat(out, format === 'text' ? textLine : prettyJson));
}

/** How pino ends a console decision's line (the message is its last field). */
const DECISION_LINE_END = '"msg":"Decision Log"}\n';

/**
 * A record line with its objects' keys in the order Go writes them (src/json/writer.ts): pino writes a JS object's
 * integer-like keys first, so a decision's `{"10": .., "2": ..}` would print otherwise than in OPA's log.
 */
function inGoKeyOrder(line: string): string {
  // OPA's logger writes a console decision's fields, and the keys of every object in it, sorted (Go encodes its
  // maps so); only those lines, told by their end, pay for the sort.
  if (line.endsWith(DECISION_LINE_END)) return `${writeJson(cloneJson(readJson(line.trimEnd()), { sortKeys: true }))}\n`;
  return mayHaveIntegerKeyFirst(line) ? `${writeJson(readJson(line.trimEnd()))}\n` : line;
}

function prettyJson(record: Record<string, unknown>): string {
  return `${writeJson(record, 2)}\n`;
}

function textLine(record: Record<string, unknown>): string {
  const { time, level, msg, ...fields } = record;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : writeJson(v)}`).join(' ');
  return `${String(time)} ${String(level).toUpperCase()} ${String(msg ?? '')}${rest ? ` ${rest}` : ''}\n`;
}

function reformat(out: NodeJS.WritableStream, render: (record: Record<string, unknown>) => string): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) out.write(render(readJson(line) as Record<string, unknown>));
      done();
    },
  });
}
