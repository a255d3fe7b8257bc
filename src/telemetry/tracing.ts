import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { useTraceIds } from '../infra/logger';

/** Paths probed by load balancers and Prometheus: no trace for each probe. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * OpenTelemetry traces over OTLP (the standard OTEL_* variables: endpoint,
 * protocol, headers, sampler, service name). Spans never hold what a caller
 * sent as data: no query string, no outgoing URL (a webhook's may carry its
 * token), no SQL values (statements as written, literals masked), no Redis
 * arguments (keys and values), no GraphQL variables nor literal values, no
 * headers. Returns what flushes the buffered spans at shutdown.
 */
export function startTracing(): () => Promise<void> {
  // Traces only, unless asked: metrics are /metrics' (Prometheus), logs are pino's.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, names the service (the SDK's own detector reads it).
    ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: 'twofactor' }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
        // Attributes given here replace the instrumentation's own: a GET /graphql
        // carries its variables in the query string, a webhook URL its token.
        startIncomingSpanHook: () => ({ 'url.query': undefined }),
        startOutgoingSpanHook: () => ({ 'url.full': undefined }),
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // One span for the request and one for its handler; none per hook.
        instrumentHooks: false,
        requestHook: (span, request) => span.setAttribute('url.path', request.url.split('?')[0]),
      }),
      // Operation name and type; the document with its literal values masked; no variables; no span per field.
      new GraphQLInstrumentation({ allowValues: false, ignoreResolveSpans: true, mergeItems: true }),
      // The statement as written (values travel apart, as `?` parameters); a literal in it is masked too.
      new MySQL2Instrumentation({ maskStatement: true }),
      // The command's name only: its arguments are keys and values.
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();

  // Every log line written while a span is active names its trace (infra/logger.ts).
  useTraceIds(() => {
    const spanContext = trace.getSpan(context.active())?.spanContext();
    return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
  });
  return () => sdk.shutdown();
}
