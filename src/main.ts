import 'reflect-metadata';
import { createApp } from './app';
import { signDevelopmentToken } from './callers/token-signer';
import { ConfigError, loadConfig } from './config/config';
import { createLogger } from './infra/logger';

/** Process entry: read config, build the app, listen, shut down on SIGTERM. */
async function main(): Promise<void> {
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
  const logger = createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn(warning);

  const app = await createApp(config, { logger });
  await app.fastify.listen({ port: config.http.port, host: config.http.host });
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const base = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  logger.info({ url: `${base}/graphql`, database: config.database.kind, store: config.store.kind, sms: config.sms.provider }, 'listening');

  if (!config.production && config.auth.jwtSecret && config.usingDevelopmentKeys) {
    const token = await signDevelopmentToken(config.auth.jwtSecret, 'dev-user', [], {
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });
    process.stdout.write(
      [
        '',
        `  Apollo Sandbox:    ${base}/graphql`,
        `  Development token: ${token}`,
        '  (user dev-user, 12 hours; more with `npm run token -- <userId> [scope ...]`)',
        `  In Sandbox, add the header  Authorization: Bearer <token>`,
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
