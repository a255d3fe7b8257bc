/**
 * Imported first by main.ts, before anything tracing instruments (http, Fastify,
 * GraphQL, mysql2, ioredis): the instrumentations patch those modules as they
 * load. Tracing starts only when OTEL_EXPORTER_OTLP_ENDPOINT is set (.env
 * included); without it no OpenTelemetry module is even loaded, so nothing is
 * added to a request's path (docs/adr/0017-security-signals.md).
 */
import { loadDotEnv } from '../config/dotenv';

loadDotEnv();

/** Whether the environment asks for tracing: an OTLP endpoint, and the SDK not disabled. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  return (
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim() !== '' && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true'
  );
}

let stop: () => Promise<void> = async () => undefined;

if (tracingRequested(process.env)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when asked for
  stop = (require('./tracing') as typeof import('./tracing')).startTracing();
}

/** Sends the spans still buffered; main.ts calls it on shutdown (a no-op without tracing). */
export function stopTracing(): Promise<void> {
  return stop();
}
