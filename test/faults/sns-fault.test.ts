import { randomInt } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { FakeSns } from '../support/fake-sns';
import { describeOutcomes, improperAnswers, type Outcome, sleep, succeeded, timedGql } from '../support/faults';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollSms, enrollTotp } from '../support/two-factor';

const START_SMS = 'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }';
const CONFIRM_SMS = 'mutation($c: String!) { confirmSmsSetup(code: $c) { status { enabled } } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const ME = '{ me { id } }';

let phoneCounter = randomInt(0, 9000);
/** Fresh valid US numbers for this file (limits are per store prefix, so other files never meet them). */
const newPhone = () => `+1415555${String(1000 + (phoneCounter++ % 9000)).padStart(4, '0')}`;

/**
 * Sits between the service and FakeSns and records every Publish attempt,
 * including those FakeSns fails or leaves hanging, so a test knows the code a
 * failed send carried.
 */
class RecordingProxy {
  readonly attempts: { phoneNumber: string; code: string }[] = [];
  private server?: Server;
  constructor(private readonly target: () => string) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        const form = new URLSearchParams(body.toString());
        const sixDigits = (form.get('Message') ?? '').match(/\b\d{6}\b/g) ?? [];
        this.attempts.push({
          phoneNumber: form.get('PhoneNumber') ?? '',
          code: sixDigits.length === 1 ? sixDigits[0] : 'NOT-ONE-CODE',
        });
        const target = new URL(this.target());
        const upstream = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        upstream.on('error', () => outgoing.destroy());
        outgoing.on('close', () => upstream.destroy());
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  codesTriedTo(phoneNumber: string): string[] {
    return [...new Set(this.attempts.filter((a) => a.phoneNumber === phoneNumber).map((a) => a.code))];
  }
}

describe('SNS failing, hanging and recovering with sends in flight', () => {
  const sns = new FakeSns();
  const proxy = new RecordingProxy(() => sns.url);
  let t: TestApp | undefined;

  beforeAll(async () => {
    await sns.start();
    await proxy.start();
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: proxy.url } });
  });
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await proxy.stop();
    await sns.stop();
  });
  beforeEach(() => {
    sns.mode = 'ok';
  });

  it('a hanging provider: sends of every kind fail in bounded time, other requests are answered meanwhile, nothing is live or counted, and sends work once it answers', async () => {
    const app = t!;
    const loginService = await app.token('login-service', ['twofactor:login']);
    const smsUser = await enrollSms(app, sns, uniqueId('sns-sms'), newPhone());
    const totpUser = await enrollTotp(app, uniqueId('sns-totp'));
    const setups = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const userId = uniqueId('sns-setup');
        return { userId, phone: newPhone(), token: await app.token(userId, [], { authTime: app.clock.now() }) };
      }),
    );
    const challenge = (await app.gql(START_LOGIN, { u: smsUser.userId }, loginService)).data.startLoginChallenge
      .id as string;

    sns.mode = 'hang';
    const sends: Promise<Outcome>[] = [
      ...setups.map((s) =>
        timedGql(
          app.url,
          'startSmsSetup',
          START_SMS,
          { p: s.phone },
          { token: s.token, timeoutMs: 30_000, note: s.phone },
        ),
      ),
      timedGql(app.url, 'sendSmsCode', SEND, {}, { token: smsUser.token, timeoutMs: 30_000 }),
      timedGql(app.url, 'sendLoginSmsCode', SEND_LOGIN, { id: challenge }, { timeoutMs: 30_000 }),
    ];
    // While the sends hang, everything else is answered at once.
    const meanwhile: Outcome[] = [];
    let settled = false;
    void Promise.all(sends).then(() => (settled = true));
    for (let i = 0; !settled && i < 100; i += 1) {
      meanwhile.push(await timedGql(app.url, 'me', ME, {}, { token: totpUser.token }));
      const opened = await timedGql(
        app.url,
        'startLoginChallenge',
        START_LOGIN,
        { u: totpUser.userId },
        { token: loginService },
      );
      meanwhile.push(opened);
      if (succeeded(opened) && i % 5 === 0 && i / 5 < totpUser.recoveryCodes.length) {
        // (Recovery codes, so the test clock stays put and the login challenge above stays live.)
        meanwhile.push(
          await timedGql(app.url, 'verifyLoginChallenge', VERIFY, {
            id: opened.data.startLoginChallenge.id,
            c: totpUser.recoveryCodes[i / 5],
          }),
        );
      }
      await sleep(100);
    }
    const results = await Promise.all(sends);

    expect(describeOutcomes(improperAnswers([...results, ...meanwhile]))).toBe('');
    expect(results.map((r) => r.code)).toEqual(Array(6).fill('SMS_DELIVERY_FAILED'));
    for (const result of results) expect(result.ended - result.started).toBeLessThan(12_000);
    expect(meanwhile.length).toBeGreaterThan(10);
    expect(meanwhile.filter((o) => !succeeded(o))).toEqual([]);
    expect(Math.max(...meanwhile.map((o) => o.ended - o.started))).toBeLessThan(1_000);

    // The codes those sends carried (the provider saw them) are not live.
    for (const s of setups) {
      const tried = proxy.codesTriedTo(s.phone);
      expect(tried.length).toBe(1);
      expect(errorCode(await app.gql(CONFIRM_SMS, { c: tried[0] }, s.token))).toBe('INVALID_CODE');
    }
    const triedToSmsUser = proxy
      .codesTriedTo(smsUser.phone)
      .filter((code) => !sns.codesTo(smsUser.phone).includes(code));
    expect(triedToSmsUser).toHaveLength(2);
    for (const code of triedToSmsUser) {
      expect(errorCode(await app.gql(VIEW, { c: code }, smsUser.token))).toBe('INVALID_CODE');
    }
    // (The challenge took two of its five tries here.)
    for (const code of triedToSmsUser)
      expect(errorCode(await app.gql(VERIFY, { id: challenge, c: code }))).toBe('INVALID_CODE');

    // The provider answers again: the same sends go through at once (no 30 s wait: nothing was
    // counted), and their codes work.
    sns.mode = 'ok';
    for (const s of setups) {
      expect((await app.gql(START_SMS, { p: s.phone }, s.token)).errors).toBeUndefined();
      expect(
        (await app.gql(CONFIRM_SMS, { c: sns.lastCodeTo(s.phone) }, s.token)).data?.confirmSmsSetup?.status?.enabled,
      ).toBe(true);
    }
    expect((await app.gql(SEND, {}, smsUser.token)).errors).toBeUndefined();
    expect((await app.gql(VIEW, { c: sns.lastCodeTo(smsUser.phone) }, smsUser.token)).errors).toBeUndefined();
    expect((await app.gql(SEND_LOGIN, { id: challenge })).errors).toBeUndefined();
    expect(
      (await app.gql(VERIFY, { id: challenge, c: sns.lastCodeTo(smsUser.phone) })).data?.verifyLoginChallenge?.method,
    ).toBe('SMS');
  }, 45_000);

  it('a provider that recovers while sends hang: each send either succeeds with a working code or fails leaving nothing live or counted', async () => {
    const app = t!;
    const setups = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const userId = uniqueId('sns-recover');
        return { userId, phone: newPhone(), token: await app.token(userId, [], { authTime: app.clock.now() }) };
      }),
    );
    sns.mode = 'hang';
    const sends = setups.map((s) =>
      timedGql(app.url, 'startSmsSetup', START_SMS, { p: s.phone }, { token: s.token, timeoutMs: 30_000 }),
    );
    await sleep(1_000);
    sns.mode = 'ok';
    const results = await Promise.all(sends);
    expect(describeOutcomes(improperAnswers(results))).toBe('');

    let delivered = 0;
    for (const [index, s] of setups.entries()) {
      const result = results[index];
      expect(result.ended - result.started).toBeLessThan(12_000);
      const tried = proxy.codesTriedTo(s.phone);
      // Retries carry the same code: one code per send.
      expect(tried).toHaveLength(1);
      if (succeeded(result)) {
        delivered += 1;
        expect(sns.lastCodeTo(s.phone)).toBe(tried[0]);
        // Counted once: the 30 s rule now holds this number and purpose back.
        expect(errorCode(await app.gql(START_SMS, { p: s.phone }, s.token))).toBe('RATE_LIMITED');
        expect((await app.gql(CONFIRM_SMS, { c: tried[0] }, s.token)).data?.confirmSmsSetup?.status?.enabled).toBe(
          true,
        );
      } else {
        expect(result.code).toBe('SMS_DELIVERY_FAILED');
        expect(errorCode(await app.gql(CONFIRM_SMS, { c: tried[0] }, s.token))).toBe('INVALID_CODE');
        expect((await app.gql(START_SMS, { p: s.phone }, s.token)).errors).toBeUndefined();
        expect(
          (await app.gql(CONFIRM_SMS, { c: sns.lastCodeTo(s.phone) }, s.token)).data?.confirmSmsSetup?.status?.enabled,
        ).toBe(true);
      }
    }
    console.log(
      `sns recovery in flight: ${delivered} of ${setups.length} hanging sends were delivered by the client's retry after the provider recovered`,
    );
  }, 45_000);

  it('bursts of failed publishes (error, throttle) use none of the hourly quota, per user or per number', async () => {
    const app = t!;
    // Per user: 8 failed sends to 8 numbers, then the full 5 an hour still go through, and no more.
    const token = await app.token(uniqueId('sns-burst'), [], { authTime: app.clock.now() });
    for (let i = 0; i < 8; i += 1) {
      sns.mode = i % 2 === 0 ? 'error' : 'throttle';
      const failed = await timedGql(app.url, 'startSmsSetup', START_SMS, { p: newPhone() }, { token });
      expect([failed.code, failed.ended - failed.started < 12_000]).toEqual(['SMS_DELIVERY_FAILED', true]);
    }
    sns.mode = 'ok';
    for (let i = 0; i < 5; i += 1) expect((await app.gql(START_SMS, { p: newPhone() }, token)).errors).toBeUndefined();
    expect(errorCode(await app.gql(START_SMS, { p: newPhone() }, token))).toBe('RATE_LIMITED');

    // Per number: 6 users fail to reach one number, then 5 users reach it, and the 6th is held back.
    const phone = newPhone();
    const users = await Promise.all(
      Array.from({ length: 12 }, (_, i) => app.token(uniqueId(`sns-number-${i}`), [], { authTime: app.clock.now() })),
    );
    for (let i = 0; i < 6; i += 1) {
      sns.mode = i % 2 === 0 ? 'throttle' : 'error';
      expect(errorCode(await app.gql(START_SMS, { p: phone }, users[i]))).toBe('SMS_DELIVERY_FAILED');
    }
    sns.mode = 'ok';
    for (let i = 6; i < 11; i += 1) expect((await app.gql(START_SMS, { p: phone }, users[i])).errors).toBeUndefined();
    expect(errorCode(await app.gql(START_SMS, { p: phone }, users[11]))).toBe('RATE_LIMITED');
  }, 45_000);
});
