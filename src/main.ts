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

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 25_000).unref();
    try {
      await app.close();
      clearTimeout(force);
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

main().catch((error) => {
  console.error('twofactor: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
