import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequestHandler } from './app';
import { loadWebConfig, WebConfigError } from './config';
import { developmentIdentity } from './identity';
import { WEB_LIMITS } from './limits';
import { seedDemoOrganization } from './seed';
import { ServiceClient } from './service';
import { SessionStore } from './sessions';

const log = (line: string) => process.stderr.write(`web: ${line}\n`);

async function main(): Promise<void> {
  // dist-server/main.js -> the web package's folder
  const webRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  let config;
  try {
    config = loadWebConfig(process.env, webRoot);
  } catch (error) {
    if (error instanceof WebConfigError) {
      log(`refusing to start: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  if (config.production) {
    log(
      'refusing to start in production: this reference server signs users in with a demo password and the ' +
        "service's development keys. Give it your identity provider and login service (server/identity.ts) first.",
    );
    process.exit(78);
  }

  const identity = await developmentIdentity(config, process.env);
  const service = new ServiceClient(config.serviceUrl);
  const sessions = new SessionStore({
    idleSeconds: config.sessionIdleSeconds,
    maxSeconds: config.sessionMaxSeconds,
    maxCount: config.sessionMaxCount,
    sweepSeconds: WEB_LIMITS.sessionSweepSeconds,
  });
  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    createRequestHandler({ config, identity, service, sessions, log }),
  );

  const seeded: Promise<unknown> = config.seedDemo
    ? seedDemoOrganization(service, identity).then(
        (count) => log(`demo organization demo-org ("Demo"): owner demo-owner and ${count - 1} members`),
        (error: Error) => log(`could not seed the demo organization: ${error.message}`),
      )
    : Promise.resolve();

  await new Promise<void>((done) => server.listen(config.port, config.host, done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.publicOrigin.port === String(port) ? config.publicOrigin.origin : `http://localhost:${port}`;
  if (process.send) {
    // Started by `npm run web` (scripts/web.mjs): it prints the address, once, when this is ready.
    void seeded.then(() => process.send?.({ ready: url }));
  } else {
    process.stdout.write(`\n  Web client: ${url}   (sign in with any user id and the password demo)\n\n`);
  }

  const shutdown = () => {
    sessions.close();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  log(`failed to start: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
