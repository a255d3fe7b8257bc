import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver } from './support/otlp-receiver';

/**
 * Without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry SDK or instrumentation
 * module is loaded (the no-op API is, by prom-client, as before tracing), no
 * tracer provider is registered and no Fastify plugin is added: a request's
 * path is the same as before tracing existed. Set, the same process has them
 * (so the probe can see them). The probe loads the built service as main.ts
 * does (dist/src/telemetry/bootstrap.js first), serves one GraphQL request
 * through the whole path (embedded SQLite, in-process store), then reports.
 * Needs `npm run build`.
 */

const ROOT = join(__dirname, '..', '..');

const PROBE = `
const { stopTracing } = require('./dist/src/telemetry/bootstrap');
require('reflect-metadata');
const { createApp } = require('./dist/src/app');
const { loadConfig } = require('./dist/src/config/config');
(async () => {
  const app = await createApp(loadConfig(process.env), {});
  await app.fastify.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.fastify.server.address();
  const response = await fetch('http://127.0.0.1:' + port + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  // The API alone (a no-op without a provider) is prom-client's: it loads it for exemplars, tracing or not.
  const modules = Object.keys(require.cache).filter(
    (file) => /[\\\\/]node_modules[\\\\/](@opentelemetry|@fastify[\\\\/]otel)[\\\\/]/.test(file) && !/[\\\\/]@opentelemetry[\\\\/]api[\\\\/]/.test(file),
  );
  const api = globalThis[Symbol.for('opentelemetry.js.api.1')];
  process.stdout.write('PROBE ' + JSON.stringify({
    status: response.status,
    modules: modules.length,
    tracerProvider: Boolean(api && api.trace),
    fastifyPlugin: app.fastify.hasPlugin('@fastify/otel'),
  }) + '\\n');
  await app.close();
  await stopTracing();
})().catch((error) => { console.error(error); process.exit(1); });
`;

interface Probe {
  status: number;
  modules: number;
  tracerProvider: boolean;
  fastifyPlugin: boolean;
}

async function probe(env: Record<string, string>): Promise<Probe> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-tracing-off-'));
  try {
    const child = spawn(process.execPath, ['-e', PROBE], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = /^PROBE (.*)$/m.exec(output);
    if (code !== 0 || !line) throw new Error(`the probe ended with ${code}:\n${output}`);
    return JSON.parse(line[1]) as Probe;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('tracing off unless OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterAll(() => receiver.close());

  it('without it: no OpenTelemetry module loaded, no tracer provider, no Fastify plugin', async () => {
    expect(await probe({})).toEqual({ status: 200, modules: 0, tracerProvider: false, fastifyPlugin: false });
  });

  it('with an empty endpoint, or the SDK disabled: the same', async () => {
    expect(await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toMatchObject({ modules: 0, fastifyPlugin: false });
    expect(await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' })).toMatchObject({
      modules: 0,
      tracerProvider: false,
      fastifyPlugin: false,
    });
  });

  it('with it: the SDK, its tracer provider and the Fastify plugin are there (the probe sees them)', async () => {
    const on = await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    expect(on).toMatchObject({ status: 200, tracerProvider: true, fastifyPlugin: true });
    expect(on.modules).toBeGreaterThan(10);
    expect(receiver.spans.some((span) => span.attributes['url.path'] === '/graphql')).toBe(true);
  });
});
