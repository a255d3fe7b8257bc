// Tracing switched on (issue 27): a second service process, the same build with
// the same settings, database and Redis, plus OTEL_EXPORTER_OTLP_ENDPOINT at the
// bench's OTLP receiver (baselines/otlp-receiver.mjs) on loopback. It runs only
// for its own passes (started before each, stopped after, so its spans are
// flushed and counted per pass, and no other pass shares the machine with it);
// the ordinary rows are the same passes with tracing off: the service started
// without any OTEL_* variable, which loads no OpenTelemetry module at all.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sampleMemory, startNode, waitForHttp } from './processes.mjs';

/** The scenarios' `server` for the traced process. */
export const TRACED = 'traced';

/** Why tracing cannot be measured on this build (one without src/telemetry/tracing.ts), or null. */
export function tracingSkip(serviceRoot) {
  return existsSync(join(serviceRoot, 'dist/src/telemetry/tracing.js')) ? null : 'skipped: not implemented';
}

/** The OTEL_* variables a running process has, read from the kernel (/proc/<pid>/environ), or null. */
export function otelVariablesOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .map((entry) => entry.split('=')[0])
      .filter((name) => name.startsWith('OTEL_'));
  } catch {
    return null;
  }
}

/** GraphQL operations a service answered so far (its /metrics: the operations histogram's counts). */
async function operationsServed(url) {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let total = 0;
  for (const match of text.matchAll(/^graphql_operation_duration_seconds_count\{[^}]*\} (\S+)$/gm))
    total += Number(match[1]);
  return total;
}

/**
 * The receiver (one process for the run) and the traced service's lifecycle:
 * `up()` starts a traced process and waits until it is ready; `down()` stops it
 * (SIGTERM: the service flushes its spans before it exits) and returns what its
 * pass cost and sent: spans received, roots, by kind, exports, bytes, the
 * operations it answered, its peak RSS, and the OTEL_* variables it ran with.
 */
export class TracingRun {
  constructor({ root, serviceRoot, serviceEnv, nodeArgs, baseEnv, workDir }) {
    Object.assign(this, { root, serviceRoot, serviceEnv, nodeArgs, baseEnv, workDir });
    this.receiver = null;
    this.service = null;
    this.started = 0;
  }

  async startReceiver() {
    this.receiver = startNode('OTLP receiver', join(this.root, 'bench/baselines/otlp-receiver.mjs'), {
      cwd: this.root,
      port: await freePort(),
      logFile: join(this.workDir, 'otlp-receiver.log'),
      env: this.baseEnv,
    });
    await waitForHttp(this.receiver, '/stats');
    return this.receiver;
  }

  /** The receiver's counts so far. */
  async stats() {
    return (await fetch(`${this.receiver.url}/stats`, { signal: AbortSignal.timeout(5_000) })).json();
  }

  /** The environment of the traced process: the service's, and the OTLP endpoint (nothing else of OTEL_*). */
  env() {
    return { ...this.serviceEnv, OTEL_EXPORTER_OTLP_ENDPOINT: this.receiver.url };
  }

  async up() {
    if (this.service) return this.service;
    this.started += 1;
    this.logFile = join(this.workDir, `service-traced-${this.started}.log`);
    this.before = await this.stats();
    const startedAt = performance.now();
    this.service = startNode('service with tracing on', join(this.serviceRoot, 'dist/src/main.js'), {
      cwd: this.serviceRoot,
      nodeArgs: this.nodeArgs,
      port: await freePort(),
      logFile: this.logFile,
      env: this.env(),
    });
    await waitForHttp(this.service, '/readyz');
    this.startMs = Math.round(performance.now() - startedAt);
    this.otelVariables = otelVariablesOf(this.service.pid);
    this.stopSampling = sampleMemory([this.service]);
    return this.service;
  }

  async down() {
    const service = this.service;
    if (!service) return null;
    this.service = null;
    this.stopSampling();
    const operations = await operationsServed(service.url).catch(() => null);
    await service.stop(20_000);
    const after = await this.stats();
    const delta = (name) => after[name] - this.before[name];
    const spans = delta('spans');
    return {
      endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT at the bench receiver (127.0.0.1), http/protobuf, the SDK defaults',
      startMs: this.startMs,
      exitedCleanly: service.exit?.code === 0,
      operationsServed: operations,
      spans,
      rootSpans: delta('rootSpans'),
      spansByKind: Object.fromEntries(
        Object.entries(after.byKind)
          .map(([kind, count]) => [kind, count - (this.before.byKind[kind] ?? 0)])
          .filter(([, count]) => count > 0),
      ),
      serverSpans: after.byKind.server - this.before.byKind.server,
      spansPerOperation: operations ? Number((spans / operations).toFixed(2)) : null,
      exports: delta('exports'),
      bytes: delta('bytes'),
      rejected: delta('rejected'),
      peakRssMb: Number((service.peakRssKb / 1024).toFixed(1)),
      otelVariables: this.otelVariables,
    };
  }
}
