// First: tracing, when asked for, must patch what it traces before that is loaded.
// eslint-disable-next-line import-x/order -- must run before the imports below
import { stopTracing } from './telemetry/bootstrap';
import 'reflect-metadata';
import { createApp } from './app';
import { signDevelopmentToken } from './callers/token-signer';
import { ConfigError, loadConfig } from './config/config';
import { loadDotEnv } from './config/dotenv';
import { createLogger } from './infra/logger';

/** Process entry: read config, build the app, listen, shut down on SIGTERM. */
async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`twofactor: refusing to start, ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  // Readable on a developer's terminal; JSON when piped and always in production.
  const logger = createLogger(config.logLevel, { pretty: !config.production && process.stdout.isTTY === true });
  for (const warning of config.warnings) logger.warn(warning);

  // Development: one token for the banner and the Sandbox page's headers.
  const developmentToken =
    !config.production && config.auth.jwtSecret && config.usingDevelopmentKeys
      ? await signDevelopmentToken(config.auth.jwtSecret, 'dev-user', [], {
          issuer: config.auth.issuer,
          audience: config.auth.audience,
        })
      : undefined;
  const app = await createApp(config, { logger, sandboxToken: developmentToken });
  await app.fastify.listen({ port: config.http.port, host: config.http.host });
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}`;
  const base = `${host}:${port}`;
  const metricsAddress = app.metricsServer?.server.address();
  const metrics =
    typeof metricsAddress === 'object' && metricsAddress ? `${host}:${metricsAddress.port}/metrics` : `${base}/metrics`;
  // The one "listening" line (Fastify's own are dropped by the logger).
  logger.info(
    {
      url: `${base}/graphql`,
      metrics,
      database: config.database.kind,
      store: config.store.kind,
      sms: config.sms.provider,
    },
    'listening',
  );

  if (developmentToken) {
    process.stdout.write(
      [
        '',
        `  Apollo Sandbox:    ${base}/graphql   (opens with this token in its headers)`,
        `  Development token: ${developmentToken}`,
        '  (user dev-user, signed in now, valid 12 hours; more with `npm run -s token -- <userId> [scope ...]`)',
        `  Enrolling a first factor needs a sign-in under ${config.auth.reauthMaxAgeSeconds} s old (auth_time); on`,
        '  REAUTHENTICATION_REQUIRED, `npm run -s token -- dev-user` mints a token signed in now:',
        '  put it in the Authorization header (Bearer <token>), or restart for a fresh Sandbox.',
        '',
        '',
      ].join('\n'),
    );
  }

  // Requests in flight get this long after a signal, and less after a fault.
  const graceMs = { signal: 25_000, fault: 10_000 };
  let closing = false;
  const shutdown = async (reason: string, exitCode: 0 | 1) => {
    // A fault during a signal's shutdown still ends it non-zero.
    process.exitCode = Math.max(Number(process.exitCode ?? 0), exitCode);
    if (closing) return;
    closing = true;
    logger.info({ reason }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), exitCode === 0 ? graceMs.signal : graceMs.fault).unref();
    try {
      await app.close();
      await stopTracing();
      clearTimeout(force);
      process.exit();
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  // A fault nobody handled leaves the process in a state nobody knows: log it,
  // give requests in flight a bounded time, exit non-zero; the supervisor starts
  // a fresh one (ADR 0011).
  const fault = (msg: string) => (error: unknown) => {
    logger.fatal({ err: error }, msg);
    void shutdown(msg, 1);
  };
  process.on('unhandledRejection', fault('unhandled rejection'));
  process.on('uncaughtException', fault('uncaught exception'));
}

main().catch((error) => {
  // A setting found wrong while starting (e.g. FIDO_MDS_BLOB_FILE does not verify): refused as loadConfig's are.
  if (error instanceof ConfigError) {
    console.error(`twofactor: refusing to start, ${error.message}`);
    process.exit(78);
  }
  console.error('twofactor: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
