import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics';

/** GET /metrics: Prometheus text. */
export function serveMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}

/**
 * METRICS_PORT: /metrics on a port of its own, and not on the API's, so it need
 * not face the internet with the API. It starts listening when the API server
 * gets ready (a port in use fails the start) and closes with it.
 */
export function metricsServer(api: FastifyInstance, metrics: Metrics, port: number, host: string): FastifyInstance {
  const server = Fastify({
    loggerInstance: api.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  serveMetrics(server, metrics);
  api.addHook('onReady', async () => {
    await server.listen({ port, host });
  });
  api.addHook('onClose', async () => {
    await server.close();
  });
  return server;
}
