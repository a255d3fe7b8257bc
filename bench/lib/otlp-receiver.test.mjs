// The bench's OTLP receiver (baselines/otlp-receiver.mjs) counts what the
// project's own OpenTelemetry SDK exports to it, in protobuf and in JSON.
// Run with `node --test bench/lib/otlp-receiver.test.mjs` (jest runs it too: test/bench).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Ten traces of a server span with two children (an internal and a client span), exported by the SDK. */
const EXPORT = `
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { trace, SpanKind } = require('@opentelemetry/api');
const sdk = new NodeSDK({ serviceName: 'bench-receiver-test', instrumentations: [] });
sdk.start();
const tracer = trace.getTracer('test');
for (let i = 0; i < 10; i += 1) {
  tracer.startActiveSpan('request', { kind: SpanKind.SERVER }, (span) => {
    tracer.startSpan('handler').end();
    tracer.startSpan('SELECT', { kind: SpanKind.CLIENT }).end();
    span.end();
  });
}
process.stdout.write(String(process.pid));
sdk.shutdown().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
`;

describe('the OTLP receiver', () => {
  let receiver;
  let url;

  before(async () => {
    receiver = spawn(process.execPath, [join(ROOT, 'bench/baselines/otlp-receiver.mjs')], {
      env: { PATH: process.env.PATH, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise((done, fail) => {
      receiver.stdout.on('data', (chunk) => {
        const match = /ready (\d+)/.exec(chunk.toString());
        if (match) done(Number(match[1]));
      });
      receiver.once('exit', (code) => fail(new Error(`the receiver exited (${code})`)));
    });
    url = `http://127.0.0.1:${port}`;
  });

  after(() => receiver.kill('SIGTERM'));

  const stats = async () => (await fetch(`${url}/stats`)).json();
  const exportWith = (protocol) => {
    const result = spawnSync(process.execPath, ['-e', EXPORT], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };

  test('counts the spans, roots, kinds and exporting process of an http/protobuf export', async () => {
    const before = await stats();
    const pid = exportWith('http/protobuf');
    const after = await stats();
    assert.equal(after.spans - before.spans, 30);
    assert.equal(after.byPid[pid], 30);
    assert.equal(after.rootSpans - before.rootSpans, 10);
    assert.equal(after.byKind.server - before.byKind.server, 10);
    assert.equal(after.byKind.internal - before.byKind.internal, 10);
    assert.equal(after.byKind.client - before.byKind.client, 10);
    assert.equal(after.rejected, 0);
    assert.ok(after.contentTypes['application/x-protobuf'] >= 1);
  });

  test('counts an http/json export alike', async () => {
    const before = await stats();
    const pid = exportWith('http/json');
    const after = await stats();
    assert.equal(after.spans - before.spans, 30);
    assert.equal(after.byPid[pid], 30);
    assert.equal(after.rootSpans - before.rootSpans, 10);
    assert.equal(after.byKind.server - before.byKind.server, 10);
    assert.ok(after.contentTypes['application/json'] >= 1);
  });

  test('refuses a body that is not OTLP, and answers 404 elsewhere', async () => {
    const bad = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]),
    });
    assert.equal(bad.status, 400);
    assert.equal((await stats()).rejected, 1);
    assert.equal((await fetch(`${url}/v1/metrics`, { method: 'POST', body: '' })).status, 404);
  });
});
