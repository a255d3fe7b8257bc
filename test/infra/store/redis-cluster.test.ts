import { randomBytes, randomInt } from 'node:crypto';
import { FakeSns } from '../../support/fake-sns';
import { freePort } from '../../support/private-redis';
import { RedisCluster } from '../../support/redis-cluster';
import { errorCode, type GqlResult, startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { currentTotp, enrollSms, enrollTotp } from '../../support/two-factor';

const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';
const START_SMS = 'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }';
const CONFIRM_SMS = 'mutation($c: String!) { confirmSmsSetup(code: $c) { status { enabled } } }';

let phoneCounter = randomInt(0, 9000);
const newPhone = () => `+1415555${String(1000 + (phoneCounter++ % 9000)).padStart(4, '0')}`;

/**
 * The limiter and challenge rules on a real three-master Redis Cluster
 * (REDIS_CLUSTER_NODES): keys spread over the masters, the keys an operation
 * touches together share a slot, and no command ever meets CROSSSLOT.
 */
describe('the store on a real Redis Cluster', () => {
  const cluster = new RedisCluster([freePort(24000), freePort(25000), freePort(26000)]);
  const prefix = `tf:cluster:${randomBytes(4).toString('hex')}:`;
  const sns = new FakeSns();
  let t: TestApp;
  let loginService: string;
  /** Every answer in this file, to show no request ever failed on the store. */
  const answers: GqlResult<any>[] = [];
  const gql = async (query: string, variables?: Record<string, unknown>, token?: string) => {
    const result = await t.gql(query, variables, token);
    answers.push(result);
    return result;
  };
  const open = async (userId: string): Promise<string> => {
    const result = await gql(START, { u: userId }, loginService);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data.startLoginChallenge.id;
  };

  beforeAll(async () => {
    await cluster.start();
    for (const port of cluster.ports) await cluster.cli(port, 'CONFIG', 'RESETSTAT');
    await sns.start();
    t = await startTestApp({
      storeKeyPrefix: prefix,
      env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodes, SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url },
    });
    loginService = await t.token('login-service', ['twofactor:login']);
  }, 60_000);
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await sns.stop();
    await cluster.stop();
  });

  it('runs on the cluster, and /readyz says ready', async () => {
    expect(t.config.store).toEqual({
      kind: 'redis-cluster',
      nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    });
    const ready = await fetch(`${t.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
  });

  it('per user: 10 failures, then RATE_LIMITED even for a right code; 20 parallel guesses get exactly 10 checks', async () => {
    const user = await enrollTotp(t, uniqueId('cluster-limit'));
    for (let i = 0; i < 10; i += 1) {
      const result =
        i % 2 === 0
          ? await gql(VIEW, { c: '000000' }, user.token)
          : await gql(VERIFY, { id: await open(user.userId), c: '000000' });
      expect([i, errorCode(result)]).toEqual([i, 'INVALID_CODE']);
    }
    const limited = await gql(VIEW, { c: currentTotp(t, user.secret) }, user.token);
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(limited.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);

    const other = await enrollTotp(t, uniqueId('cluster-parallel'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => gql(VIEW, { c: String(200000 + i) }, other.token)),
    );
    expect(results.map(errorCode).sort()).toEqual([
      ...Array(10).fill('INVALID_CODE'),
      ...Array(10).fill('RATE_LIMITED'),
    ]);
  });

  it('login challenges: open, verify, spent by the first success, exhausted after 5 attempts', async () => {
    const user = await enrollTotp(t, uniqueId('cluster-login'));
    const challenge = await open(user.userId);
    expect((await gql(VERIFY, { id: challenge, c: currentTotp(t, user.secret) })).data.verifyLoginChallenge).toEqual({
      userId: user.userId,
      method: 'TOTP',
    });
    expect(errorCode(await gql(VERIFY, { id: challenge, c: user.recoveryCodes[0] }))).toBe('CHALLENGE_NOT_FOUND');

    const tried = await open(user.userId);
    for (let i = 0; i < 5; i += 1)
      expect(errorCode(await gql(VERIFY, { id: tried, c: '000000' }))).toBe('INVALID_CODE');
    expect(errorCode(await gql(VERIFY, { id: tried, c: user.recoveryCodes[0] }))).toBe('CHALLENGE_NOT_FOUND');

    const raced = await enrollTotp(t, uniqueId('cluster-race'));
    const contested = await open(raced.userId);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gql(VERIFY, { id: contested, c: i % 2 === 0 ? currentTotp(t, raced.secret) : raced.recoveryCodes[i % 10] }),
      ),
    );
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
    expect(
      results
        .map(errorCode)
        .filter((code) => code && !['INVALID_CODE', 'RATE_LIMITED', 'CHALLENGE_NOT_FOUND'].includes(code)),
    ).toEqual([]);
  });

  it('SMS codes: bound to their purpose, single use, one send per 30 s per purpose', async () => {
    const user = await enrollSms(t, sns, uniqueId('cluster-sms'), newPhone());
    // Step-up code: not a login code; works once.
    expect((await gql(SEND, {}, user.token)).errors).toBeUndefined();
    expect(errorCode(await gql(SEND, {}, user.token))).toBe('RATE_LIMITED');
    const stepUp = sns.lastCodeTo(user.phone);
    const challenge = await open(user.userId);
    expect(errorCode(await gql(VERIFY, { id: challenge, c: stepUp }))).toBe('INVALID_CODE');
    expect((await gql(VIEW, { c: stepUp }, user.token)).errors).toBeUndefined();
    expect(errorCode(await gql(VIEW, { c: stepUp }, user.token))).toBe('INVALID_CODE');
    // Login code: for its challenge only, not for another, not for a step-up; works once.
    const other = await open(user.userId);
    expect((await gql(SEND_LOGIN, { id: challenge })).errors).toBeUndefined();
    const login = sns.lastCodeTo(user.phone);
    expect(errorCode(await gql(VERIFY, { id: other, c: login }))).toBe('INVALID_CODE');
    expect(errorCode(await gql(VIEW, { c: login }, user.token))).toBe('INVALID_CODE');
    expect((await gql(VERIFY, { id: challenge, c: login })).data.verifyLoginChallenge.method).toBe('SMS');
    expect(errorCode(await gql(VERIFY, { id: other, c: login }))).toBe('INVALID_CODE');
    // A setup code is for the setup only.
    const setupUser = await t.token(uniqueId('cluster-setup'), [], { authTime: t.clock.now() });
    const phone = newPhone();
    expect((await gql(START_SMS, { p: phone }, setupUser)).errors).toBeUndefined();
    expect(errorCode(await gql(START_SMS, { p: phone }, setupUser))).toBe('RATE_LIMITED');
    expect((await gql(CONFIRM_SMS, { c: sns.lastCodeTo(phone) }, setupUser)).data.confirmSmsSetup.status.enabled).toBe(
      true,
    );
  });

  it("spreads keys over the masters, keeps each operation's keys in one slot, and never meets CROSSSLOT", async () => {
    // A few more challenges (random ids, so random slots), each with an attempt counted.
    const user = await enrollTotp(t, uniqueId('cluster-spread'));
    for (let i = 0; i < 8; i += 1)
      expect(errorCode(await gql(VERIFY, { id: await open(user.userId), c: '000000' }))).toBe('INVALID_CODE');

    const keysByNode = new Map<number, string[]>();
    for (const port of cluster.ports) {
      const listed = await cluster.cli(port, '--scan', '--pattern', `${prefix}*`);
      keysByNode.set(port, listed.split('\n').filter(Boolean));
    }
    const counts = cluster.ports.map((port) => keysByNode.get(port)!.length);
    expect(counts.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);

    // Keys that go together (a challenge and its attempts; an SMS code and its checks) share a slot.
    const allKeys = [...keysByNode.values()].flat();
    const pairs: [string, string][] = [];
    for (const key of allKeys) {
      const attempts = /^(.*)challenge-attempts:\{(.+)\}$/.exec(key);
      if (attempts) pairs.push([key, `${attempts[1]}challenge:{${attempts[2]}}`]);
      const checks = /^(.*)sms-checks:\{(.+)\}$/.exec(key);
      if (checks) pairs.push([key, `${checks[1]}sms-code:{${checks[2]}}`]);
    }
    expect(pairs.length).toBeGreaterThan(5);
    const slots = new Set<string>();
    for (const [first, second] of pairs) {
      const slot = await cluster.cli(cluster.ports[0], 'CLUSTER', 'KEYSLOT', first);
      expect([first, slot]).toEqual([first, await cluster.cli(cluster.ports[0], 'CLUSTER', 'KEYSLOT', second)]);
      slots.add(slot);
    }
    expect(slots.size).toBeGreaterThan(3);

    // No request failed on the store, and no node ever answered CROSSSLOT.
    expect(
      answers.map(errorCode).filter((code) => code === 'SERVICE_UNAVAILABLE' || code === 'INTERNAL_SERVER_ERROR'),
    ).toEqual([]);
    const errorStats: string[] = [];
    for (const port of cluster.ports) {
      const stats = (await cluster.cli(port, 'INFO', 'errorstats'))
        .split(/\r?\n/)
        .filter((line) => line.startsWith('errorstat_'));
      errorStats.push(`${port}: ${stats.join(' ') || 'none'}`);
      // No CROSSSLOT, MOVED, ASK, NOSCRIPT, WRONGTYPE...: the only errors are plain ERRs, and no known
      // command failed or was refused (those ERRs are ioredis's CLIENT SETINFO probe, which Redis 7.0
      // does not know).
      expect([port, stats.filter((line) => !line.startsWith('errorstat_ERR:'))]).toEqual([port, []]);
      const failedCommands = (await cluster.cli(port, 'INFO', 'commandstats'))
        .split(/\r?\n/)
        .filter((line) => /(rejected|failed)_calls=[1-9]/.test(line));
      expect([port, failedCommands]).toEqual([port, []]);
    }
    expect(t.logs.join('\n')).not.toMatch(/CROSSSLOT/);
    console.log(
      `redis cluster: keys per master ${counts.join(' / ')}; ${pairs.length} key pairs in ${slots.size} slots; error stats:\n${errorStats.join('\n')}`,
    );
  });
});
