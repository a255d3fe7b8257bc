import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Tokens, codes and secrets never reach a log line: the
 * request logger logs no headers or bodies, and these paths are redacted in case
 * an object carrying them is ever logged. `pretty` (development on a terminal)
 * prints the same lines readably; production and piped output are always JSON.
 */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const settings: LoggerOptions = {
    level,
    base: { service: 'twofactor' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        '*.code',
        '*.secret',
        '*.phoneNumber',
        '*.token',
        'variables',
      ],
      censor: '[redacted]',
    },
    hooks: {
      // Fastify's own "Server listening at" lines (one per interface on 0.0.0.0):
      // main.ts logs the one line that says what is served, and where.
      logMethod(args, method) {
        if (typeof args[0] === 'string' && args[0].startsWith('Server listening at ')) return;
        method.apply(this, args);
      },
    },
  };
  const pretty = options.pretty ? prettyStream() : undefined;
  return pretty ? pino(settings, pretty) : pino(settings);
}

/** pino-pretty is a devDependency, absent from production images: loaded only when asked for. */
function prettyStream(): DestinationStream | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional at run time: absent where it is not wanted
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    // Synchronous, so log lines and the start banner appear in the order written.
    return pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true });
  } catch {
    return undefined;
  }
}
