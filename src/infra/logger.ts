import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Tokens, codes and secrets never reach a log line: the
 * request logger logs no headers or bodies, and these paths are redacted in case
 * an object carrying them is ever logged.
 */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
