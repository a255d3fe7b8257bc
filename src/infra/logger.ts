import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** The id of the request being served, for every line logged while serving it. */
const requestIds = new AsyncLocalStorage<string>();

/** Runs `work` (and everything it starts) as part of request `id`: its log lines carry `reqId`. */
export function runWithRequestId<T>(id: string, work: () => T): T {
  return requestIds.run(id, work);
}

export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}

/** The trace id of the active span; set by telemetry/tracing.ts when tracing runs, else there is none. */
let activeTraceId: () => string | undefined = () => undefined;

export function useTraceIds(source: () => string | undefined): void {
  activeTraceId = source;
}

/**
 * Every line written while a request is served carries its `reqId`, as
 * Fastify's request lines do, so support finds all of a request's lines: the
 * services log through the app's logger, far from the request. Not added when
 * the line or its logger names one already (Fastify's request logger binds it).
 * With tracing on, a line written inside a span carries its `trace_id` too.
 */
export function requestIdMixin(line: object, _level: number, logger: Logger): { reqId?: string; trace_id?: string } {
  const traceId = activeTraceId();
  const reqId = requestIds.getStore();
  const withReqId = reqId !== undefined && !('reqId' in line) && logger.bindings().reqId === undefined;
  if (traceId === undefined) return withReqId ? { reqId } : {};
  return withReqId ? { reqId, trace_id: traceId } : { trace_id: traceId };
}

/**
 * Structured JSON logs. Tokens, codes and secrets never reach a log line: the
 * request logger logs no headers or bodies, and these paths are redacted in case
 * an object carrying them is ever logged. `pretty` (development on a terminal)
 * prints the same lines readably; production and piped output are always JSON;
 * `destination` (tests) receives the JSON lines instead of stdout.
 */
export function createLogger(
  level: string,
  options: { pretty?: boolean; destination?: DestinationStream } = {},
): Logger {
  const settings: LoggerOptions = {
    level,
    mixin: requestIdMixin,
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
  const destination = options.destination ?? (options.pretty ? prettyStream() : undefined);
  return destination ? pino(settings, destination) : pino(settings);
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
