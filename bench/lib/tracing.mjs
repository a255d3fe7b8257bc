// Tracing switched on (issue 27): a second service process, the same build with
// the same settings, database and Redis, plus OTEL_EXPORTER_OTLP_ENDPOINT at the
// bench's OTLP receiver (baselines/otlp-receiver.mjs) on loopback. It is started
// once, before the re-encryption pass's values under an older key are seeded (an
// instance started after them refuses to start without that key, and one given
// it would re-encrypt them in the background), and is paused (SIGSTOP: no CPU, no
// polling) except during its own passes, so no other pass shares the machine
// with a running one. The ordinary rows are the same passes with tracing off:
// the service started without any OTEL_* variable, which loads no OpenTelemetry
// module at all.
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

/** The SDK's batch span processor exports at least every 5 s (OTEL_BSP_SCHEDULE_DELAY's default): waited after a pass. */
const EXPORT_DELAY_MS = 6_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The receiver and the traced service (one process each for the run): `start()`
 * starts both and pauses the service; `resume()` before each traced pass;
 * `pause()` after it returns what the pass cost and sent (spans received once
 * its batches were exported: roots, by kind, exports, bytes; the operations it
 * answered; its peak RSS so far and the OTEL_* variables it runs with) and
 * pauses it again; `stop()` at the end (SIGTERM: it flushes and exits).
 */
export class TracingRun {
  constructor({ root, serviceRoot, serviceEnv, nodeArgs, baseEnv, workDir }) {
    Object.assign(this, { root, serviceRoot, serviceEnv, nodeArgs, baseEnv, workDir });
    this.receiver = null;
    this.service = null;
  }

  /** The receiver's counts so far. */
  async stats() {
    return (await fetch(`${this.receiver.url}/stats`, { signal: AbortSignal.timeout(5_000) })).json();
  }

  async start() {
    this.receiver = startNode('OTLP receiver', join(this.root, 'bench/baselines/otlp-receiver.mjs'), {
      cwd: this.root,
      port: await freePort(),
      logFile: join(this.workDir, 'otlp-receiver.log'),
      env: this.baseEnv,
    });
    await waitForHttp(this.receiver, '/stats');
    const startedAt = performance.now();
    this.service = startNode('service with tracing on', join(this.serviceRoot, 'dist/src/main.js'), {
      cwd: this.serviceRoot,
      nodeArgs: this.nodeArgs,
      port: await freePort(),
      logFile: join(this.workDir, 'service-traced.log'),
      // The service's environment and the OTLP endpoint: nothing else of OTEL_*.
      env: { ...this.serviceEnv, OTEL_EXPORTER_OTLP_ENDPOINT: this.receiver.url },
    });
    await waitForHttp(this.service, '/readyz');
    this.startMs = Math.round(performance.now() - startedAt);
    this.otelVariables = otelVariablesOf(this.service.pid);
    this.stopSampling = sampleMemory([this.service]);
    // Its start's own spans (the outbox worker's first reads) exported, then paused until its first pass.
    await sleep(EXPORT_DELAY_MS);
    this.service.child.kill('SIGSTOP');
    return this.service;
  }

  async resume() {
    this.service.child.kill('SIGCONT');
    this.before = await this.stats();
    this.operationsBefore = await operationsServed(this.service.url);
    return this.service;
  }

  async pause() {
    const operations = await operationsServed(this.service.url).catch(() => null);
    await sleep(EXPORT_DELAY_MS);
    const after = await this.stats();
    this.service.memory();
    this.service.child.kill('SIGSTOP');
    const delta = (name) => after[name] - this.before[name];
    const spans = delta('spans');
    const answered = operations === null ? null : operations - this.operationsBefore;
    return {
      endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT at the bench receiver (127.0.0.1), http/protobuf, the SDK defaults',
      startMs: this.startMs,
      operationsServed: answered,
      spans,
      rootSpans: delta('rootSpans'),
      spansByKind: Object.fromEntries(
        Object.entries(after.byKind)
          .map(([kind, count]) => [kind, count - (this.before.byKind[kind] ?? 0)])
          .filter(([, count]) => count > 0),
      ),
      serverSpans: after.byKind.server - this.before.byKind.server,
      spansPerOperation: answered ? Number((spans / answered).toFixed(2)) : null,
      exports: delta('exports'),
      bytes: delta('bytes'),
      rejected: delta('rejected'),
      peakRssMb: Number((this.service.peakRssKb / 1024).toFixed(1)),
      otelVariables: this.otelVariables,
    };
  }

  async stop() {
    if (!this.service || this.service.exited) return;
    this.stopSampling();
    this.service.child.kill('SIGCONT');
    await this.service.stop(20_000);
  }
}
