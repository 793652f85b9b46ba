// Structured logs: pino underneath, one JSON object per line (time, level, context, msg, the
// correlation id of the request or saga step it belongs to, and any fields), or short readable
// lines on a terminal. Secrets are removed by path before a line is written (API keys,
// passphrases, Authorization and X-API-Key headers, tokens), so a field that holds one never
// reaches the log whatever the message is. ArbiterLogger is the NestJS LoggerService over it:
// every `new Logger('Context')` in the code writes through it once the app is created with it.
import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type Logger as Pino, type LevelWithSilent } from 'pino';
import { currentLogContext } from './log-context.js';

/** Field paths whose values are never written (pino's redact syntax; `*` is one level). */
export const REDACTED_PATHS = [
  'apiKey', '*.apiKey', 'key', '*.key', 'passphrase', '*.passphrase', 'password', '*.password', 'secret', '*.secret',
  'token', '*.token', 'metricsToken', '*.metricsToken', 'authorization', '*.authorization',
  'headers.authorization', '*.headers.authorization', 'headers["x-api-key"]', '*.headers["x-api-key"]', '"x-api-key"', '*["x-api-key"]',
  'KEYSTORE_PASSPHRASE', 'SEAL_KEYSTORE_PASSPHRASE', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'METRICS_TOKEN', 'JUPITER_API_KEY',
];
export const REDACTED = '[redacted]';

export interface LoggerOptions {
  level: 'debug' | 'info' | 'warn' | 'error';
  /** auto: pretty when the destination is a terminal. */
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go (default stdout). */
  destination?: { write(line: string): unknown; isTTY?: boolean };
}

export function createLogger(o: LoggerOptions): Pino {
  const out = o.destination ?? process.stdout;
  const pretty = o.format === 'pretty' || (o.format === 'auto' && !!(out as { isTTY?: boolean }).isTTY);
  return pino(
    {
      level: o.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      mixin: () => ({ ...currentLogContext() }),
    },
    pretty ? prettyStream(out) : (out as NodeJS.WritableStream),
  );
}

const COLOURS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[35m' };

/** A person's view of the same lines (only ever on a terminal): time, level, [context], message, fields. */
function prettyStream(out: { write(line: string): unknown }) {
  return {
    write(line: string) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { time, level, msg, context, ...rest } = o;
      const t = typeof time === 'string' ? time.slice(11, 23) : '';
      const lvl = String(level);
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${t} ${COLOURS[lvl] ?? ''}${lvl.toUpperCase().padEnd(5)}\x1b[0m ${context ? `[${String(context)}] ` : ''}${String(msg ?? '')}${fields ? ` \x1b[90m${fields}\x1b[0m` : ''}\n`);
    },
  };
}

const NEST_TO_PINO: Record<LogLevel, LevelWithSilent> = { verbose: 'debug', debug: 'debug', log: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };

/**
 * NestJS's LoggerService over pino. Nest calls it as `(message, ...optionalParams)` where the last
 * string is the context; an object as the message, or as a parameter, becomes fields of the line.
 */
export class ArbiterLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest, true);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest, true);
  }
  setLogLevels(levels: LogLevel[]): void {
    // The most verbose level Nest asks for.
    const order: LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];
    const lowest = order.find((l) => levels.includes(l));
    if (lowest) this.pino.level = NEST_TO_PINO[lowest];
  }

  private write(level: LevelWithSilent, message: unknown, rest: unknown[], isError = false): void {
    if (level === 'silent' || !this.pino.isLevelEnabled(level)) return;
    const params = [...rest];
    // Nest puts the context last (a string); Logger.error puts the stack before it.
    const context = params.length && typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    for (const p of params) {
      if (p instanceof Error) fields.err = p; // pino's err serializer: type, message, stack
      else if (typeof p === 'string' && isError) fields.stack = p;
      else if (p && typeof p === 'object') Object.assign(fields, p);
    }
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (message && typeof message === 'object') {
      const { msg, ...more } = message as Record<string, unknown>;
      this.pino[level]({ ...fields, ...more }, typeof msg === 'string' ? msg : '');
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
