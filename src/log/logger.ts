// pino logging: JSON lines by default; `--log-format text` renders the same records as readable lines.
// Nothing on the request path logs inputs, headers or tokens (see server/app.ts).
import { Writable } from 'node:stream';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type LogFormat = 'json' | 'text';

export const logLevels: LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(level: LevelWithSilent, format: LogFormat, out: NodeJS.WritableStream = process.stderr): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'json') return pino(options, out as pino.DestinationStream);
  return pino(options, textStream(out));
}

function textStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        const { time, level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
        const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
        out.write(`${String(time)} ${pino.levels.labels[Number(level)]?.toUpperCase() ?? level} ${String(msg ?? '')}${rest ? ` ${rest}` : ''}\n`);
      }
      done();
    },
  });
}
