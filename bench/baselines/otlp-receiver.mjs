// The OTLP/HTTP receiver of `npm run bench`'s tracing passes: a process of its own
// on 127.0.0.1:$PORT, where the service with tracing on exports its spans (as to
// a collector). POST /v1/traces with an ExportTraceServiceRequest in protobuf (the
// exporter's default, http/protobuf) or JSON (http/json), gzip or not, answered
// 200 with an empty ExportTraceServiceResponse; GET /stats says what came.
//
// It only counts, so it costs the two shared cores little: spans, spans without a
// parent (roots), and spans by kind, read by walking the protobuf wire format down
// to each Span (opentelemetry-proto's field numbers: request.resourceSpans = 1,
// ResourceSpans.scopeSpans = 2, ScopeSpans.spans = 2, Span.parentSpanId = 4,
// Span.kind = 6) without decoding anything else; and by the exporting process's
// pid (Resource.attributes' process.pid), so a run can say which processes sent spans. (The tests' receiver,
// test/signals/support/otlp-receiver.ts, decodes everything, to check what spans hold.)
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const stats = {
  exports: 0,
  bytes: 0,
  spans: 0,
  rootSpans: 0,
  byKind: Object.fromEntries(KINDS.map((kind) => [kind, 0])),
  rejected: 0,
  /** Spans by the exporting process's pid (the resource's process.pid): which process sent them. */
  byPid: {},
  contentTypes: {},
  firstAt: null,
  lastAt: null,
};

/** A varint at `pos`: [value, next position]. */
function varint(buffer, pos) {
  let value = 0;
  let factor = 1;
  let byte;
  do {
    if (pos >= buffer.length) throw new Error('truncated varint');
    byte = buffer[pos++];
    value += (byte & 0x7f) * factor;
    factor *= 128;
  } while (byte & 0x80);
  return [value, pos];
}

/** Calls `each(field, start, end, value)` for every field of the message in buffer[start, end). */
function walk(buffer, start, end, each) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buffer, pos);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) {
      let value;
      [value, pos] = varint(buffer, pos);
      each(field, pos, pos, value);
    } else if (wireType === 2) {
      let length;
      [length, pos] = varint(buffer, pos);
      if (pos + length > end) throw new Error('truncated field');
      each(field, pos, pos + length, undefined);
      pos += length;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else throw new Error(`wire type ${wireType}`);
  }
}

function countSpan(root, kind, pid) {
  stats.spans += 1;
  const key = pid === undefined ? 'unknown' : String(pid);
  stats.byPid[key] = (stats.byPid[key] ?? 0) + 1;
  if (root) stats.rootSpans += 1;
  stats.byKind[KINDS[kind] ?? 'unspecified'] += 1;
}

/** The process.pid attribute of a Resource (attributes = 1: KeyValue key = 1, value = 2: AnyValue intValue = 3). */
function pidOf(body, start, end) {
  let pid;
  walk(body, start, end, (field, attributeStart, attributeEnd) => {
    if (field !== 1) return;
    let key;
    let value;
    walk(body, attributeStart, attributeEnd, (member, memberStart, memberEnd) => {
      if (member === 1) key = body.toString('utf8', memberStart, memberEnd);
      else if (member === 2) value = [memberStart, memberEnd];
    });
    if (key !== 'process.pid' || !value) return;
    walk(body, value[0], value[1], (member, _s, _e, number) => {
      if (member === 3) pid = number;
    });
  });
  return pid;
}

function countProtobuf(body) {
  walk(body, 0, body.length, (field, start, end) => {
    if (field !== 1) return; // resourceSpans
    let pid;
    walk(body, start, end, (resourceField, resourceStart, resourceEnd) => {
      if (resourceField === 1) pid = pidOf(body, resourceStart, resourceEnd);
    });
    walk(body, start, end, (scopeField, scopeStart, scopeEnd) => {
      if (scopeField !== 2) return; // scopeSpans
      walk(body, scopeStart, scopeEnd, (spanField, spanStart, spanEnd) => {
        if (spanField !== 2) return; // spans
        let root = true;
        let kind = 0;
        walk(body, spanStart, spanEnd, (member, memberStart, memberEnd, value) => {
          if (member === 4 && memberEnd > memberStart) root = false;
          else if (member === 6) kind = value;
        });
        countSpan(root, kind, pid);
      });
    });
  });
}

function countJson(body) {
  for (const resourceSpans of JSON.parse(body.toString('utf8')).resourceSpans ?? []) {
    const pid = resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'process.pid')?.value
      ?.intValue;
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? [])
        countSpan(!span.parentSpanId, Number(span.kind ?? 0), pid === undefined ? undefined : Number(pid));
    }
  }
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(stats));
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    const type = String(request.headers['content-type'] ?? '').split(';')[0];
    const json = type === 'application/json';
    try {
      let body = Buffer.concat(chunks);
      stats.bytes += body.length;
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (json) countJson(body);
      else countProtobuf(body);
    } catch {
      stats.rejected += 1;
      response.writeHead(400).end();
      return;
    }
    stats.exports += 1;
    stats.contentTypes[type] = (stats.contentTypes[type] ?? 0) + 1;
    stats.lastAt = new Date().toISOString();
    stats.firstAt ??= stats.lastAt;
    // An empty ExportTraceServiceResponse: nothing rejected.
    response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    response.end(json ? '{}' : undefined);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
