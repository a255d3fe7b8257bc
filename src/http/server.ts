import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import { GraphQLError, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { TokenVerifier } from '../callers/token-verifier';
import type { Config } from '../config/config';
import { AppError } from '../errors';
import { compiledExecutorGateway } from '../graphql/compiled-executor';
import { createContext, type Context } from '../graphql/context';
import { costLimitPlugin, DOCUMENT_LIMITS } from '../graphql/document-limits';
import { createErrorFormatter } from '../graphql/format-error';
import { knownOperationTypesRule } from '../graphql/operation-types';
import { translateDatabaseError } from '../infra/db/database';
import { currentRequestId, type Logger, runWithRequestId } from '../infra/logger';
import { answerClientError, badRequestBody, hostProblem, MALFORMED_URL, urlProblem } from './malformed-requests';
import type { Metrics } from './metrics';
import { metricsServer, serveMetrics } from './metrics-endpoint';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpServerOptions {
  config: Config;
  logger: Logger;
  schema: GraphQLSchema;
  validationRules: ValidationRule[];
  /** Development only: the Sandbox page opens with it in its Authorization header. */
  sandboxToken?: string;
  tokens: TokenVerifier;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /** Plain routes beside GraphQL (the OCSF feed), registered by the modules that serve them. */
  routes?: ((fastify: FastifyInstance) => void)[];
}

/** Fastify with Apollo on /graphql and the plain endpoints beside it. */
export async function createHttpServer(
  options: HttpServerOptions,
): Promise<{ fastify: FastifyInstance; apollo: ApolloServer<Context>; metricsServer?: FastifyInstance }> {
  const { config, logger } = options;
  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Our own one line per request (onResponse below), with no headers in it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    // Trust X-Forwarded-For only as far as TRUST_PROXY hops; else the socket's address.
    trustProxy: (_address: string, hop: number) => hop < config.http.trustProxy,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A missing Host is refused below, GraphQL-shaped, rather than by Node's bare 400.
    http: { requireHostHeader: false },
    clientErrorHandler: answerClientError(logger),
    // The router's refusals (a path whose percent-encoding does not decode) are
    // transport refusals like the others, not Fastify's own body. No route ran,
    // so no hook sets the headers or logs the line: done here, at info.
    frameworkErrors: (error, request, reply) => {
      request.log.info({ method: request.method, status: 400, reason: error.code }, 'request');
      reply.header('cache-control', 'no-store').header('x-request-id', request.id);
      void badRequest(reply, 400, error.code === 'FST_ERR_BAD_URL' ? MALFORMED_URL : 'Bad request.');
    },
  });

  // Every answer: never cached; the request id echoed for support. While shutting
  // down, answers close their keep-alive connection, so the drain ends once they are sent.
  let draining = false;
  fastify.addHook('preClose', async () => {
    draining = true;
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-request-id', request.id);
    if (draining) reply.header('connection', 'close');
  });
  fastify.addHook('onResponse', async (request, reply) => {
    // Refusals at info; the rest at debug (one line a request costs the hot reads ~15%).
    request.log[reply.statusCode >= 400 ? 'info' : 'debug'](
      {
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  // A Host or a query string no URL can hold is the client's mistake, refused before any route runs.
  fastify.addHook('onRequest', async (request, reply) => {
    const problem = hostProblem(request) ?? urlProblem(request.url);
    if (problem) return badRequest(reply, 400, problem);
  });
  if (config.http.corsOrigins.length > 0) {
    await fastify.register(cors, { origin: config.http.corsOrigins, methods: ['GET', 'POST'], maxAge: 600 });
  }

  // Transport-level refusals get a GraphQL-shaped body with BAD_REQUEST; a store
  // or database that cannot be reached is 503; anything else is a bug: 500, logged
  // with the request id, no details (ADR 0010: a 503 would tell clients to retry it).
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : undefined;
    if (status) return badRequest(reply, status, transportMessage(error));
    const known = translateDatabaseError(error);
    if (known instanceof AppError && known.code === 'SERVICE_UNAVAILABLE') {
      request.log.warn({ err: error }, 'service unavailable');
      return reply.code(503).send({ errors: [{ message: known.message, extensions: { code: known.code } }] });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .code(500)
      .send({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });
  fastify.setNotFoundHandler((request, reply) =>
    badRequest(reply, 404, `No route ${request.method} ${request.url.split('?')[0]}`),
  );

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2_000);
          return { name, ok: true };
        } catch {
          return { name, ok: false };
        }
      }),
    );
    const failed = results.filter((result) => !result.ok).map((result) => result.name);
    return reply
      .code(failed.length === 0 ? 200 : 503)
      .send(failed.length === 0 ? { status: 'ready' } : { status: 'unavailable', failed });
  });
  // With METRICS_PORT, /metrics is served there only.
  const metrics =
    config.http.metricsPort === undefined
      ? undefined
      : metricsServer(fastify, options.metrics, config.http.metricsPort, config.http.host);
  if (!metrics) serveMetrics(fastify, options.metrics);
  for (const register of options.routes ?? []) register(fastify);
  // Whoever opens the bare address: in development, where to go; in production, whose it is.
  fastify.get('/', async () =>
    config.production
      ? { service: 'twofactor' }
      : {
          service: 'twofactor',
          graphql: '/graphql',
          hint: 'POST GraphQL to /graphql; open /graphql in a browser for Apollo Sandbox.',
        },
  );

  // The request id for log lines written far from the request (services, the error formatter): the
  // logger adds it to every line. Set here, after the body is read: body parsing runs outside any scope set earlier.
  fastify.addHook('preHandler', (request, _reply, done) => runWithRequestId(String(request.id), done));

  const apollo = new ApolloServer<Context>({
    // GRAPHQL_EXECUTOR=jit: compiled operations, through Apollo's one hook for another executor.
    ...(config.graphql.executor === 'jit'
      ? { gateway: compiledExecutorGateway(options.schema, { ...config.graphql, registry: options.metrics.registry }) }
      : { schema: options.schema }),
    introspection: config.introspection,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: false,
    validationRules: [knownOperationTypesRule, ...options.validationRules],
    // No persisted queries (contract): such requests are refused before Apollo (below).
    persistedQueries: false,
    parseOptions: { maxTokens: DOCUMENT_LIMITS.maxTokens },
    formatError: createErrorFormatter(logger, config.production, currentRequestId),
    logger,
    plugins: [
      fastifyApolloDrainPlugin(fastify),
      // Every answer is no-store: no cache hints to compute per field.
      ApolloServerPluginCacheControlDisabled(),
      // Nothing goes to Apollo's cloud, even where APOLLO_KEY is in the environment
      // (usage reporting would switch itself on and trace every field).
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      options.metrics.apolloPlugin(),
      costLimitPlugin(DOCUMENT_LIMITS.maxCost, config.introspection, (fields, message) => logger.warn(fields, message)),
      config.introspection ? sandboxPage(options.sandboxToken) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  // A JSON array is a batch of operations, and there are no persisted queries:
  // both refused before Apollo sees them (Apollo's own answers are 200 or a 5xx-like error).
  fastify.addHook('preValidation', async (request, reply) => {
    if (!request.url.startsWith('/graphql')) return;
    if (Array.isArray(request.body)) {
      return badRequest(reply, 400, 'Batches of operations are not accepted: send one operation per request.');
    }
    if (asksForPersistedQuery(request.body) || asksForPersistedQuery(request.query)) {
      return badRequest(reply, 400, 'Persisted queries are not supported: send the query text.');
    }
  });

  await fastify.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    context: async (request) => {
      const header = request.headers.authorization;
      const caller = await options.tokens
        .verifyHeader(Array.isArray(header) ? header[0] : header)
        .catch((error: unknown) => {
          throw error instanceof AppError ? toGraphQLError(error, 401) : error;
        });
      return createContext(caller, request.ip, String(request.id));
    },
  });

  return { fastify, apollo, metricsServer: metrics };
}

const SANDBOX_EXAMPLE = `# The Headers tab holds a development token for dev-user (see the start banner
# for more tokens). Then try: mutation { startTotpSetup { secret otpauthUri expiresAt } }
query Me {
  me {
    id
    twoFactor { enabled methods }
  }
}
`;

/** Sandbox, ready to use: an example operation, and in development the token to run it with. */
function sandboxPage(token: string | undefined) {
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    footer: false,
    document: SANDBOX_EXAMPLE,
    ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  });
}

function toGraphQLError(error: AppError, status: number): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, http: { status } } });
}

function badRequest(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(badRequestBody(message));
}

function transportMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Send GraphQL requests as application/json.';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is empty.';
    default:
      return error.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError
        ? 'The request body is not valid JSON.'
        : 'Bad request.';
  }
}

/** A POST body or GET query whose `extensions` (an object, or JSON text in a GET) name a persisted query. */
function asksForPersistedQuery(request: unknown): boolean {
  if (typeof request !== 'object' || request === null) return false;
  let extensions = (request as { extensions?: unknown }).extensions;
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      return false; // Apollo refuses malformed extensions itself (BAD_REQUEST)
    }
  }
  return typeof extensions === 'object' && extensions !== null && 'persistedQuery' in extensions;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
