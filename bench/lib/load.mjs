// One measurement: autocannon in this process against a server in another,
// with every response's latency kept at full precision (autocannon's own
// histogram keeps whole milliseconds, too coarse for sub-millisecond answers).
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * A GraphQL POST, the same every time (`body`), or made per request by
 * `next()` returning `{ body, headers }` (rotating ids and tokens).
 */
export function graphqlRequest({ body, headers = {}, next, onResponse }) {
  const request = { method: 'POST', path: '/graphql', headers: { ...JSON_HEADERS, ...headers } };
  if (body !== undefined) request.body = body;
  if (next) {
    request.setupRequest = (req, context) => {
      const made = next(context);
      if (!made) return null;
      return { ...req, body: made.body, headers: { ...req.headers, ...made.headers } };
    };
  }
  if (onResponse) request.onResponse = onResponse;
  return request;
}

/** A response counts as an error unless it is data with no `errors` member. */
export const graphqlOk = (body) => body.startsWith('{"data":') && !body.includes('"errors":');

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

const round = (value, digits = 2) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));

/**
 * Runs autocannon for `duration` seconds (after `warmup` seconds not counted).
 * `rate`: overall requests per second (a rate-limited pass); none: as fast as it goes.
 */
export async function measure({
  url,
  requests,
  connections = 16,
  duration = 8,
  warmup = 2,
  rate,
  verifyBody = graphqlOk,
  cpu,
}) {
  const common = { url, connections, requests, verifyBody, timeout: 5 };
  if (warmup > 0) {
    await autocannon({ ...common, duration: warmup, ...(rate ? { overallRate: rate } : {}) });
  }
  const samples = new Float64Array(4_000_000);
  let count = 0;
  let responses = 0;
  let firstMismatch;
  const cpuBefore = cpu?.();
  const instance = autocannon({ ...common, duration, ...(rate ? { overallRate: rate } : {}) });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    responses += 1;
    if (statusCode >= 200 && statusCode < 300 && count < samples.length) samples[count++] = responseTime;
  });
  instance.on('reqMismatch', (body) => {
    firstMismatch ??= String(body).slice(0, 300);
  });
  const result = await instance;
  const cpuUsPerRequest = cpuPerRequest(cpuBefore, cpu?.(), responses);
  const sorted = samples.subarray(0, count).sort();
  let sum = 0;
  for (let i = 0; i < count; i += 1) sum += sorted[i];
  const completed = responses;
  // verifyBody sees every response, so `mismatches` already holds the non-2xx ones.
  const errors = result.errors + Math.max(result.mismatches, result.non2xx);
  return {
    connections,
    rate: rate ?? null,
    durationSeconds: result.duration,
    requests: completed,
    requestsPerSecond: round(completed / result.duration, 0),
    latencyMs: {
      p50: round(percentile(sorted, 50), 3),
      p90: round(percentile(sorted, 90), 3),
      p99: round(percentile(sorted, 99), 3),
      max: round(count ? sorted[count - 1] : null, 3),
      mean: round(count ? sum / count : null, 3),
    },
    // autocannon's own p99: whole milliseconds, corrected for coordinated omission in rate-limited passes.
    autocannonP99Ms: result.latency?.p99 ?? null,
    errors,
    cpuUsPerRequest,
    errorDetail: {
      socket: result.errors - result.timeouts,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      graphqlErrorsWith2xx: Math.max(0, result.mismatches - result.non2xx),
      statusCodes: result.statusCodeStats,
      firstErrorBody: firstMismatch ?? null,
    },
  };
}

/**
 * A steady, open-loop pass at `rate` requests per second: request i is due at
 * start + i / rate whatever the answers before it did, and goes out on the first
 * of `connections` keep-alive connections that is free. (autocannon's own rate
 * limit sends each second's quota in a burst at the start of the second, which
 * measures bursts at full speed, not a steady load.) The client is a minimal
 * HTTP/1.1 one on raw sockets, as cheap per request as autocannon, since it
 * shares the machine's two cores with the server.
 *
 * `latencyMs`: from writing the request to the end of the answer.
 * `correctedLatencyMs`: from the moment the request was due, so waiting for a
 * free connection (the server being behind) and a late load generator count too.
 */
export async function measurePaced({
  url,
  requests,
  rate,
  connections = 16,
  duration = 8,
  warmup = 1,
  verifyBody = graphqlOk,
  cpu,
}) {
  const target = new URL(url);
  const [request] = requests;
  const context = {};
  const host = `${target.hostname}:${target.port}`;
  const build = () => {
    const made = request.setupRequest
      ? request.setupRequest({ ...request, headers: { ...request.headers } }, context)
      : request;
    const body = Buffer.from(made.body ?? '');
    let head = `POST ${made.path ?? '/graphql'} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\nContent-Length: ${body.length}\r\n`;
    for (const [name, value] of Object.entries(made.headers ?? {})) head += `${name}: ${value}\r\n`;
    return Buffer.concat([Buffer.from(`${head}\r\n`), body]);
  };

  const pass = (seconds) =>
    new Promise((resolve) => {
      const total = Math.max(1, Math.floor(seconds * rate));
      const latencies = new Float64Array(total);
      const corrected = new Float64Array(total);
      const stats = {
        responses: 0,
        errors: 0,
        socketErrors: 0,
        timeouts: 0,
        non2xx: 0,
        graphqlErrorsWith2xx: 0,
        statusCodes: {},
        firstErrorBody: null,
      };
      const started = performance.now();
      const queue = [];
      let queueHead = 0;
      let scheduled = 0;
      let finished = 0;
      let done = false;
      const clients = [];

      const finish = () => {
        finished += 1;
        if (finished === total && !done) {
          done = true;
          clearInterval(watchdog);
          for (const client of clients) client.socket.destroy();
          resolve({
            stats,
            latencies: latencies.subarray(0, stats.responses),
            corrected: corrected.subarray(0, stats.responses),
            seconds: (performance.now() - started) / 1000,
          });
        }
      };
      const fail = (kind, body) => {
        stats.errors += 1;
        stats[kind] += 1;
        stats.firstErrorBody ??= body ?? kind;
        finish();
      };
      const dispatch = () => {
        for (const client of clients) {
          if (queueHead >= queue.length) break;
          if (client.inFlight || !client.connected) continue;
          const due = queue[queueHead++];
          client.inFlight = { due, sentAt: performance.now() };
          client.socket.write(build());
        }
        if (queueHead > 4096 && queueHead === queue.length) {
          queue.length = 0;
          queueHead = 0;
        }
      };
      const answered = (client, status, body) => {
        const { due, sentAt } = client.inFlight;
        client.inFlight = null;
        const end = performance.now();
        stats.statusCodes[status] = (stats.statusCodes[status] ?? 0) + 1;
        request.onResponse?.(status, body, context);
        if (status < 200 || status >= 300) fail('non2xx', body.slice(0, 300));
        else if (!verifyBody(body)) fail('graphqlErrorsWith2xx', body.slice(0, 300));
        else {
          latencies[stats.responses] = end - sentAt;
          corrected[stats.responses] = end - due;
          stats.responses += 1;
          finish();
        }
        dispatch();
      };
      const connect = (client) => {
        client.connected = false;
        client.buffer = Buffer.alloc(0);
        client.socket = net.connect({ host: target.hostname, port: Number(target.port) }, () => {
          client.connected = true;
          client.socket.setNoDelay(true);
          dispatch();
        });
        client.socket.on('data', (chunk) => {
          client.buffer = client.buffer.length ? Buffer.concat([client.buffer, chunk]) : chunk;
          for (;;) {
            const parsed = parseResponse(client.buffer);
            if (!parsed) break;
            client.buffer = client.buffer.subarray(parsed.length);
            if (client.inFlight) answered(client, parsed.status, parsed.body);
          }
        });
        client.socket.on('error', () => {});
        client.socket.on('close', () => {
          if (done) return;
          if (client.inFlight) {
            client.inFlight = null;
            fail('socketErrors');
          }
          setTimeout(() => connect(client), 10);
        });
      };
      for (let i = 0; i < connections; i += 1) {
        const client = { inFlight: null };
        clients.push(client);
        connect(client);
      }
      const watchdog = setInterval(() => {
        const now = performance.now();
        for (const client of clients) {
          if (client.inFlight && now - client.inFlight.sentAt > 5_000) {
            client.inFlight = null;
            fail('timeouts');
            client.socket.destroy();
          }
        }
      }, 250);
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
        while (scheduled < due) {
          queue.push(started + (scheduled * 1000) / rate);
          scheduled += 1;
        }
        dispatch();
        if (scheduled < total && !done) setTimeout(tick, 1);
      };
      tick();
    });

  if (warmup > 0) await pass(warmup);
  const cpuBefore = cpu?.();
  const { stats, latencies, corrected, seconds } = await pass(duration);
  const cpuUsPerRequest = cpuPerRequest(cpuBefore, cpu?.(), stats.responses + stats.errors);
  const summary = (values) => {
    const sorted = Float64Array.from(values).sort();
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      p50: round(percentile(sorted, 50), 3),
      p90: round(percentile(sorted, 90), 3),
      p99: round(percentile(sorted, 99), 3),
      max: round(sorted.length ? sorted[sorted.length - 1] : null, 3),
      mean: round(sorted.length ? sum / sorted.length : null, 3),
    };
  };
  const completed = stats.responses + stats.errors;
  return {
    connections,
    rate,
    paced: true,
    durationSeconds: round(seconds, 2),
    requests: completed,
    requestsPerSecond: round(completed / seconds, 0),
    latencyMs: summary(latencies),
    correctedLatencyMs: summary(corrected),
    errors: stats.errors,
    cpuUsPerRequest,
    errorDetail: {
      socket: stats.socketErrors,
      timeouts: stats.timeouts,
      non2xx: stats.non2xx,
      graphqlErrorsWith2xx: stats.graphqlErrorsWith2xx,
      statusCodes: stats.statusCodes,
      firstErrorBody: stats.firstErrorBody,
    },
  };
}

/**
 * CPU time per answered request, by process, over the measured pass (`cpu()`
 * returns each process's total so far in µs): what a request costs the machine,
 * which req/s on two shared cores hides.
 */
function cpuPerRequest(before, after, requests) {
  if (!before || !after || requests === 0) return null;
  const perRequest = {};
  for (const name of Object.keys(after)) {
    if (before[name] === null || after[name] === null) continue;
    perRequest[name] = Math.round((after[name] - before[name]) / requests);
  }
  return perRequest;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One complete HTTP/1.1 response at the start of `buffer` (Content-Length or chunked), or null. */
function parseResponse(buffer) {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = buffer.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const bodyStart = headerEnd + 4;
  if (lengthMatch) {
    const end = bodyStart + Number(lengthMatch[1]);
    if (buffer.length < end) return null;
    return { status, body: buffer.toString('utf8', bodyStart, end), length: end };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at);
      if (lineEnd < 0) return null;
      const size = parseInt(buffer.toString('latin1', at, lineEnd), 16);
      const dataStart = lineEnd + 2;
      if (buffer.length < dataStart + size + 2) return null;
      if (size === 0) return { status, body: Buffer.concat(parts).toString('utf8'), length: dataStart + 2 };
      parts.push(buffer.subarray(dataStart, dataStart + size));
      at = dataStart + size + 2;
    }
  }
  return { status, body: '', length: bodyStart };
}
