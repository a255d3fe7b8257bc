import { randomBytes } from 'node:crypto';
import { FakeSns } from '../support/fake-sns';
import { totpCodeForStep, totpStepAt } from '../support/totp';
import { uniqueMobileNumber } from '../support/two-factor';
import { WebhookReceiver } from '../support/webhook-receiver';
import { OtlpReceiver, type ReceivedSpan, SPAN_KIND } from './support/otlp-receiver';
import { TracedService } from './support/traced-service';

/**
 * Tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set): the built service exports its
 * spans over OTLP/HTTP (protobuf, the default protocol) to a receiver on
 * loopback. A span per request, per GraphQL operation (name and type, no
 * variables), per SQL statement (no values) and per Redis command (no keys),
 * under the caller's W3C traceparent; the trace id in the request's log line;
 * and nowhere in any span a code, secret, token or phone number. Needs
 * `npm run build`.
 */

const PHONE = uniqueMobileNumber();
const LOGIN_START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id methods } }';
const LOGIN_VERIFY =
  'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method assertion } }';

const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');

describe('OpenTelemetry traces (the built service, a receiver on loopback)', () => {
  let receiver: OtlpReceiver;
  let sns: FakeSns;
  let webhooks: WebhookReceiver;
  let service: TracedService;
  /** What no span may hold: every code, secret, token and the phone number the run used. */
  const secrets = new Set<string>();
  const keep = <T extends string>(value: T): T => (secrets.add(value), value);

  const alice = `alice-${randomBytes(4).toString('hex')}`;
  const bob = `bob-${randomBytes(4).toString('hex')}`;
  const loginTrace = {
    traceId: newTraceId(),
    parentId: newSpanId(),
    requestId: `trace-test-${randomBytes(4).toString('hex')}`,
  };
  const getTrace = { traceId: newTraceId(), parentId: newSpanId() };
  let exitCode: number | null = null;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    sns = new FakeSns();
    await sns.start();
    webhooks = await WebhookReceiver.start();
    service = await TracedService.start({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      LOG_LEVEL: 'debug',
      SMS_PROVIDER: 'sns',
      SNS_ENDPOINT: sns.url,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '50',
    });
    keep(PHONE);
    keep(PHONE.slice(1));
    keep(PHONE.slice(2));

    // A webhook endpoint whose URL carries a token in its path and query, as some receivers' do.
    const pathToken = keep(`path${randomBytes(8).toString('hex')}`);
    const queryToken = keep(`query${randomBytes(8).toString('hex')}`);
    const admin = keep(await service.token('ops-admin', ['twofactor:admin']));
    const endpoint = await service.gql(
      'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret } }',
      { url: `${webhooks.url}/${pathToken}?token=${queryToken}` },
      admin,
    );
    expect(endpoint.errors).toBeUndefined();
    keep(endpoint.data.createWebhookEndpoint.secret);

    // alice: TOTP set up, then a login answered with a TOTP code, under the caller's traceparent.
    const aliceToken = keep(await service.token(alice));
    const setup = await service.gql('mutation { startTotpSetup { secret otpauthUri } }', {}, aliceToken);
    const secret = keep(setup.data.startTotpSetup.secret as string);
    keep(setup.data.startTotpSetup.otpauthUri);
    const step = totpStepAt(new Date());
    const confirm = await service.gql(
      'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
      { c: keep(totpCodeForStep(secret, step)) },
      aliceToken,
    );
    expect(confirm.errors).toBeUndefined();
    for (const code of confirm.data.confirmTotpSetup.recoveryCodes) keep(code);
    const loginService = keep(await service.token('login-service', ['twofactor:login']));
    const challenge = await service.gql(LOGIN_START, { u: alice }, loginService);
    keep(challenge.data.startLoginChallenge.id);
    const verified = await service.gql(
      LOGIN_VERIFY,
      { id: challenge.data.startLoginChallenge.id, c: keep(totpCodeForStep(secret, step + 1)) },
      undefined,
      { traceparent: `00-${loginTrace.traceId}-${loginTrace.parentId}-01`, 'x-request-id': loginTrace.requestId },
    );
    expect(verified.errors).toBeUndefined();
    keep(verified.data.verifyLoginChallenge.assertion);

    // bob: an SMS set up (the code goes out through the SNS client: an outgoing request).
    const bobToken = keep(await service.token(bob));
    const started = await service.gql(
      'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }',
      { p: PHONE },
      bobToken,
    );
    expect(started.errors).toBeUndefined();
    const smsCode = keep(sns.lastCodeTo(PHONE));
    const smsConfirm = await service.gql(
      'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes } }',
      { c: smsCode },
      bobToken,
    );
    expect(smsConfirm.errors).toBeUndefined();
    for (const code of smsConfirm.data.confirmSmsSetup.recoveryCodes) keep(code);

    // A GraphQL GET: its variables travel in the query string.
    const variable = keep(`variable${randomBytes(6).toString('hex')}`);
    const url = `${service.url}/graphql?query=${encodeURIComponent('query($u: ID!) { user(id: $u) { id } }')}&variables=${encodeURIComponent(JSON.stringify({ u: variable }))}`;
    const got = await fetch(url, {
      headers: {
        'apollo-require-preflight': 'true',
        authorization: `Bearer ${keep(await service.token('reader', ['twofactor:read']))}`,
        traceparent: `00-${getTrace.traceId}-${getTrace.parentId}-01`,
      },
    });
    expect(got.status).toBe(200);

    // Webhook deliveries went out (outgoing requests, traced), then every span is flushed at shutdown.
    await webhooks.waitFor(1);
    exitCode = await service.stop();
  }, 90_000);

  afterAll(async () => {
    await receiver?.close();
    await sns?.stop();
    await webhooks?.close();
  });

  const inTrace = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
  const describeSpans = (spans: ReceivedSpan[]) =>
    spans.map((span) => `${span.scope} ${span.name} ${JSON.stringify(span.attributes)}`).join('\n');

  it('exports over OTLP/HTTP protobuf, and flushes at shutdown', () => {
    expect(exitCode).toBe(0);
    expect(receiver.contentTypes.length).toBeGreaterThan(0);
    expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/x-protobuf']));
    expect(receiver.spans.length).toBeGreaterThan(10);
    expect(receiver.spans[0].resource['service.name']).toBe('twofactor');
  });

  it("continues the caller's trace: the request's server span is a child of the traceparent's span", () => {
    const spans = inTrace(loginTrace.traceId);
    const server = spans.find(
      (span) => span.kind === SPAN_KIND.SERVER && span.scope === '@opentelemetry/instrumentation-http',
    );
    expect(server).toBeDefined();
    expect(server!.parentSpanId).toBe(loginTrace.parentId);
    expect(server!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/graphql',
      'http.response.status_code': 200,
    });
    expect(server!.attributes['http.route']).toBe('/graphql');
    // Every span of the request hangs off that one.
    const ids = new Set(spans.map((span) => span.spanId));
    for (const span of spans) if (span !== server) expect(ids.has(span.parentSpanId)).toBe(true);
  });

  it('has a span for the GraphQL operation: its name and type, no variables', () => {
    const spans = inTrace(loginTrace.traceId);
    const execute = spans.find(
      (span) =>
        span.scope === '@opentelemetry/instrumentation-graphql' &&
        span.attributes['graphql.operation.type'] === 'mutation',
    );
    expect(execute).toBeDefined();
    expect(execute!.name).toMatch(/mutation/);
    expect(Object.keys(execute!.attributes).filter((key) => key.startsWith('graphql.variables'))).toEqual([]);
    for (const span of receiver.spans) {
      expect(Object.keys(span.attributes).filter((key) => key.startsWith('graphql.variables'))).toEqual([]);
    }
  });

  it('has a span per SQL statement, with the statement and no values', () => {
    const sql = inTrace(loginTrace.traceId).filter((span) => span.scope === '@opentelemetry/instrumentation-mysql2');
    expect(sql.length).toBeGreaterThan(0);
    for (const span of sql) {
      const text = String(span.attributes['db.query.text']);
      expect(text).toMatch(/^\s*(SELECT|INSERT|UPDATE|DELETE|START|COMMIT|ROLLBACK|SET|BEGIN)/i);
      expect(text).not.toContain(alice);
    }
    expect(sql.some((span) => /\?/.test(String(span.attributes['db.query.text'])))).toBe(true);
    // No statement of the whole run names a user, whatever it was for.
    for (const span of receiver.spans.filter((span) => span.scope === '@opentelemetry/instrumentation-mysql2')) {
      expect(JSON.stringify(span.attributes)).not.toMatch(new RegExp(`${alice}|${bob}`));
    }
  });

  it("has a span per Redis command, with the command's name and no keys or values", () => {
    const redis = inTrace(loginTrace.traceId).filter((span) => span.scope === '@opentelemetry/instrumentation-ioredis');
    expect(redis.length).toBeGreaterThan(0);
    for (const span of receiver.spans.filter((span) => span.scope === '@opentelemetry/instrumentation-ioredis')) {
      expect(String(span.attributes['db.query.text'])).toMatch(/^[a-z]+$/);
      expect(JSON.stringify(span.raw)).not.toMatch(/tf:/);
    }
  });

  it("writes the trace id in the request's log line", () => {
    const line = service.lines().find((entry) => entry.msg === 'request' && entry.reqId === loginTrace.requestId);
    expect(line).toBeDefined();
    expect(line!.trace_id).toBe(loginTrace.traceId);
  });

  it('drops the query string of a request (a GET carries GraphQL variables in it)', () => {
    const spans = inTrace(getTrace.traceId);
    expect(spans.length).toBeGreaterThan(0);
    for (const span of spans) {
      expect(span.attributes['url.query']).toBeUndefined();
      if (span.attributes['url.path'] !== undefined) expect(span.attributes['url.path']).toBe('/graphql');
    }
  });

  it('records no outgoing URL (a webhook URL may carry a token)', () => {
    const outgoing = receiver.spans.filter(
      (span) => span.kind === SPAN_KIND.CLIENT && span.scope === '@opentelemetry/instrumentation-http',
    );
    expect(outgoing.length).toBeGreaterThan(0);
    for (const span of outgoing) expect(span.attributes['url.full']).toBeUndefined();
  });

  it('holds no code, secret, token or phone number in any span, attribute, event or status', () => {
    expect(secrets.size).toBeGreaterThan(20);
    const everything = JSON.stringify(receiver.spans.map((span) => ({ raw: span.raw, resource: span.resource })));
    const decoded = describeSpans(receiver.spans);
    const leaked = [...secrets].filter((secret) => everything.includes(secret) || decoded.includes(secret));
    expect(leaked).toEqual([]);
    // No header with a token either.
    expect(decoded).not.toMatch(/authorization|bearer/i);
  });
});
