#!/usr/bin/env node
// `npm run bench` (issue 8): the service with production settings on this
// machine's MariaDB and Redis, bare Apollo-on-Fastify and Mercurius baselines
// alternating with the scenarios, results in bench/results/<date>.json and .md
// and the latest table in bench/README.md. See bench/README.md.
//
// It creates and drops its own database `tf_bench_<stamp>`, uses Redis database
// BENCH_REDIS_DB (default 5, refused unless empty, flushed at the end), sends
// load to 127.0.0.1 only, and stops every process it started.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LOGIN_USERS,
  LoginWorkload,
  probeLogin,
  probeTrustedDevices,
  seedTotpUsers,
  seedTrustedDevices,
  TRUSTED_DEVICE_USERS,
} from './lib/login.mjs';
import {
  seedWebAuthnUsers,
  WEBAUTHN_ORIGIN,
  WEBAUTHN_RP_ID,
  WEBAUTHN_USERS,
  WebAuthnLoginWorkload,
} from './lib/webauthn.mjs';
import { measure, measurePaced } from './lib/load.mjs';
import {
  cpuTimes,
  freePort,
  killAllNow,
  pidOf,
  sampleMemory,
  startNode,
  stopAll,
  waitForGraphql,
  waitForHttp,
} from './lib/processes.mjs';
import { updateReadme, writeResults } from './lib/report.mjs';
import {
  accessFloorRequests,
  accessRequests,
  checkOnce,
  meRequests,
  organizationPhishingResistantRequests,
  organizationRequests,
  typenameRequests,
} from './lib/scenarios.mjs';
import {
  connect,
  countersFor,
  createDatabase,
  dropDatabase,
  explainMembersPage,
  listBenchDatabases,
  ORGANIZATION_SIZES,
  seedOrganizations,
  serverUrl,
  waitForQuietDatabase,
} from './lib/seed.mjs';
import { startWebhookReceiver, WEBHOOK_SERVICE_ENV } from './lib/webhooks.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));
// Another build of the service to measure (e.g. a branch checked out and built elsewhere); default: this one.
const SERVICE_ROOT = process.env.BENCH_SERVICE_ROOT ? resolve(process.env.BENCH_SERVICE_ROOT) : ROOT;
const began = performance.now();

const number = (name, fallback) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number`);
  return parsed;
};
const settings = {
  duration: number('BENCH_DURATION', 8),
  warmup: number('BENCH_WARMUP', 2),
  connections: number('BENCH_CONNECTIONS', 16),
  latencyDuration: number('BENCH_LATENCY_DURATION', 4),
  mysqlRootUrl: process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306',
  redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
  redisDb: number('BENCH_REDIS_DB', 5),
  // The webhook outbox with a live receiver on loopback (BENCH_WEBHOOKS=0: no endpoint, as before webhooks).
  webhooks: process.env.BENCH_WEBHOOKS !== '0',
};
for (const [name, url] of [
  ['BENCH_MYSQL_URL', settings.mysqlRootUrl],
  ['BENCH_REDIS_URL', settings.redisUrl],
]) {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
    throw new Error(`${name} must point at this machine (127.0.0.1), not ${host}`);
}

const log = (message) =>
  process.stdout.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

const now = new Date();
const stamp = now
  .toISOString()
  .replace(/[:]/g, '-')
  .replace(/\.\d+Z$/, 'Z');
const database = `tf_bench_${now.toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
const databaseUrl = serverUrl(settings.mysqlRootUrl, database);
const redisUrl = `${settings.redisUrl.replace(/\/\d*$/, '')}/${settings.redisDb}`;
const workDir = mkdtempSync(join(os.tmpdir(), 'tf-bench-'));

// Production settings: secrets of this run only; SNS pointed at a local port
// where nothing listens (no SMS is sent in these scenarios); dummy AWS
// credentials and no EC2 metadata probe.
const secrets = {
  auth: randomBytes(36).toString('base64url'),
  assertion: randomBytes(36).toString('base64url'),
  encryptionKey: randomBytes(32).toString('base64'),
};
const AUTH_ISSUER = 'bench-login-service';
const AUTH_AUDIENCE = 'twofactor';
const baseEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIABENCHDUMMY000000',
  AWS_SECRET_ACCESS_KEY: 'bench-dummy-secret-not-a-real-one',
  AWS_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

let cleanedUp = false;
let redisForCleanup;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  await stopAll().catch((error) => log(`stopping processes: ${error.message}`));
  await dropDatabase(settings.mysqlRootUrl, database).catch((error) => log(`dropping ${database}: ${error.message}`));
  if (redisForCleanup) {
    await redisForCleanup.flushdb().catch((error) => log(`flushing Redis db ${settings.redisDb}: ${error.message}`));
    redisForCleanup.disconnect();
  }
  if (!process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping, dropping ${database}`);
    cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

/** Which build was measured: its folder, commit, and how many files differed from the commit. */
function serviceBuild() {
  const git = (...args) =>
    execFileSync('git', ['-C', SERVICE_ROOT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const changed = git('status', '--porcelain', '--untracked-files=no', '--', 'src')
      .split('\n')
      .filter(Boolean).length;
    return { root: SERVICE_ROOT, commit: git('rev-parse', '--short', 'HEAD'), uncommittedChangesInSrc: changed };
  } catch {
    return { root: SERVICE_ROOT, commit: 'unknown (not a git checkout)', uncommittedChangesInSrc: null };
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'absent';
  }
}

async function machineInfo(redis) {
  const connection = await connect(settings.mysqlRootUrl);
  const [[{ version }]] = await connection.query('SELECT VERSION() AS version');
  // As this machine's MariaDB has them (the bench changes none): they decide its stalls under write load.
  const [[mariadbSettings]] = await connection.query(
    'SELECT @@innodb_buffer_pool_size AS bufferPoolBytes, @@innodb_log_file_size AS redoLogBytes, @@innodb_io_capacity AS ioCapacity, @@innodb_flush_log_at_trx_commit AS flushLogAtCommit',
  );
  await connection.end();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    mariadb: version,
    mariadbSettings,
    redis: redisVersion,
    loadAverageBefore: os.loadavg().map((value) => Number(value.toFixed(2))),
    packages: Object.fromEntries(
      [
        '@apollo/server',
        '@as-integrations/fastify',
        'fastify',
        'graphql',
        'type-graphql',
        'typeorm',
        'mysql2',
        'ioredis',
        'mercurius',
        'graphql-jit',
        'autocannon',
      ].map((name) => [name, packageVersion(name)]),
    ),
  };
}

async function main() {
  if (!existsSync(join(SERVICE_ROOT, 'dist/src/main.js')))
    throw new Error(`${SERVICE_ROOT}/dist/src/main.js is missing: run \`npm run build\` (npm run bench does)`);
  const { Redis } = require('ioredis');
  const { signDevelopmentToken } = require(join(SERVICE_ROOT, 'dist/src/callers/token-signer.js'));

  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  const keys = await redis.dbsize();
  if (keys > 0) {
    redis.disconnect();
    throw new Error(
      `Redis database ${settings.redisDb} holds ${keys} keys: the bench flushes its database at the end, so it wants an empty one (set BENCH_REDIS_DB)`,
    );
  }
  redisForCleanup = redis;
  const machine = await machineInfo(redis);
  const leftovers = await listBenchDatabases(settings.mysqlRootUrl);
  if (leftovers.length > 0)
    log(`note: databases left by earlier interrupted runs: ${leftovers.join(', ')} (drop them by hand)`);

  log(`creating ${database}; Redis db ${settings.redisDb}; logs in ${workDir}`);
  await createDatabase(settings.mysqlRootUrl, database);

  const [servicePort, apolloPort, mercuriusPort] = [await freePort(), await freePort(), await freePort()];
  const snsPort = await freePort(); // nothing listens there
  const service = startNode('service', join(SERVICE_ROOT, 'dist/src/main.js'), {
    cwd: SERVICE_ROOT,
    // e.g. BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service under the load.
    // As `npm start` and the Dockerfile run it.
    nodeArgs: [
      '--max-semi-space-size=16',
      '--max-old-space-size=192',
      ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
    port: servicePort,
    logFile: join(workDir, 'service.log'),
    env: {
      ...baseEnv,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      AUTH_JWT_SECRET: secrets.auth,
      AUTH_ISSUER,
      AUTH_AUDIENCE,
      ASSERTION_JWT_SECRET: secrets.assertion,
      ENCRYPTION_KEY: secrets.encryptionKey,
      WEBAUTHN_RP_ID,
      WEBAUTHN_ORIGINS: WEBAUTHN_ORIGIN,
      SMS_PROVIDER: 'sns',
      SNS_ENDPOINT: `http://127.0.0.1:${snsPort}/`,
      // Behind one proxy: web clients' addresses come in X-Forwarded-For (the login scenario).
      TRUST_PROXY: '1',
      ...(settings.webhooks ? WEBHOOK_SERVICE_ENV : {}),
    },
  });
  const apollo = startNode('bare Apollo on Fastify', join(ROOT, 'bench/baselines/apollo-fastify.mjs'), {
    cwd: ROOT,
    port: apolloPort,
    logFile: join(workDir, 'apollo.log'),
    env: baseEnv,
  });
  const mercurius = startNode('bare Mercurius (JIT)', join(ROOT, 'bench/baselines/mercurius-jit.mjs'), {
    cwd: ROOT,
    port: mercuriusPort,
    logFile: join(workDir, 'mercurius.log'),
    env: baseEnv,
  });
  const startedAt = performance.now();
  await waitForHttp(service, '/readyz');
  const serviceStartMs = Math.round(performance.now() - startedAt);
  await waitForGraphql(apollo);
  await waitForGraphql(mercurius);
  log(`service ready in ${serviceStartMs} ms (migrations included) on 127.0.0.1:${servicePort}, pid ${service.pid}`);
  // The verification floor: bare Fastify + mysql2 doing the least a TOTP verification must make durable.
  const floor = startNode('verification floor (Fastify + mysql2)', join(ROOT, 'bench/baselines/verify-floor.mjs'), {
    cwd: ROOT,
    port: await freePort(),
    logFile: join(workDir, 'floor.log'),
    env: { ...baseEnv, DATABASE_URL: databaseUrl },
  });
  await waitForFloor(floor);
  const stopSampling = sampleMemory([service, apollo, mercurius]);

  log('seeding organizations of 10k, 100k and 1M members with SQL');
  const seedStarted = performance.now();
  const seeded = await seedOrganizations(databaseUrl, { log });
  const seeding = { ...seeded, totalSeconds: Number(((performance.now() - seedStarted) / 1000).toFixed(1)) };
  seeding.afterwards = await waitForQuietDatabase(settings.mysqlRootUrl, { log });
  // For the record: what MariaDB picks by itself for a plain members page query with
  // no index hint (the service may give one): the seeded statistics' view.
  const plans = {};
  const describePlan = (plan) =>
    plan.map((step) => `${step.type} on ${step.key}${step.extra ? ` (${step.extra})` : ''}`).join('; ');
  for (const size of ORGANIZATION_SIZES) {
    plans[size.label] = describePlan(await explainMembersPage(databaseUrl, size.label));
    plans[`${size.label} phishing_resistant`] = describePlan(
      await explainMembersPage(databaseUrl, size.label, 'phishing_resistant'),
    );
  }

  const sign = (subject, scopes) =>
    signDevelopmentToken(secrets.auth, subject, scopes, { issuer: AUTH_ISSUER, audience: AUTH_AUDIENCE });
  const readToken = await sign('bench-internal-service', ['twofactor:read']);
  const loginToken = await sign('bench-login-service', ['twofactor:login']);
  const webhooks = settings.webhooks
    ? await startWebhookReceiver({
        root: ROOT,
        serviceUrl: service.url,
        adminToken: await sign('bench-admin', ['twofactor:admin']),
        env: baseEnv,
        logFile: join(workDir, 'webhook-receiver.log'),
      })
    : null;
  if (webhooks) log(`webhooks: every event type to a live receiver at ${webhooks.endpoint.url}`);

  const notes = [];
  const checks = {};
  const check = async (name, url, requests, expect) => {
    const answer = await checkOnce(url, requests);
    checks[name] = { status: answer.status, body: answer.body };
    const problem = expect(answer.json);
    if (problem) notes.push(`check of ${name} before its load: ${problem} (answer: ${answer.body.slice(0, 200)})`);
  };

  const baseline = { apollo: typenameRequests(), mercurius: typenameRequests() };
  const access = accessRequests(readToken);
  const me = await meRequests((subject) => sign(subject, []));
  const organization = Object.fromEntries(
    ORGANIZATION_SIZES.map((size) => [size.label, organizationRequests(readToken, size.label)]),
  );
  const organizationPr = Object.fromEntries(
    ORGANIZATION_SIZES.map((size) => [size.label, organizationPhishingResistantRequests(readToken, size.label)]),
  );

  await check('organizationAccess', service.url, access, (json) =>
    json?.data?.organizationAccess?.reason ? null : 'no reason in the answer',
  );
  await check('me', service.url, me, (json) =>
    Array.isArray(json?.data?.me?.twoFactor?.methods) ? null : 'no methods in the answer',
  );
  for (const size of ORGANIZATION_SIZES) {
    const counters = countersFor(size.members);
    await check(`organization ${size.label}`, service.url, organization[size.label], (json) => {
      const org = json?.data?.organization;
      if (!org) return 'no organization in the answer';
      if (org.compliance.totalMembers !== size.members)
        return `totalMembers ${org.compliance.totalMembers}, seeded ${size.members}`;
      const without = counters.ownersWithout + counters.membersWithout;
      if (org.members.totalCount !== without)
        return `members totalCount ${org.members.totalCount}, seeded ${without} without two-factor`;
      if (org.members.edges.length !== 50) return `${org.members.edges.length} edges, wanted 50`;
      return null;
    });
    await check(`organization ${size.label}, phishing-resistant`, service.url, organizationPr[size.label], (json) => {
      const org = json?.data?.organization;
      if (!org) return 'no organization in the answer';
      const withPr = counters.ownersWithPr + counters.membersWithPr;
      const withoutPr = counters.ownersWithoutPr + counters.membersWithoutPr;
      if (org.compliance.membersWithPhishingResistant !== withPr)
        return `membersWithPhishingResistant ${org.compliance.membersWithPhishingResistant}, seeded ${withPr}`;
      if (org.compliance.ownersWithoutPhishingResistant !== counters.ownersWithoutPr) {
        return `ownersWithoutPhishingResistant ${org.compliance.ownersWithoutPhishingResistant}, seeded ${counters.ownersWithoutPr}`;
      }
      if (org.members.totalCount !== withoutPr)
        return `members totalCount ${org.members.totalCount}, seeded ${withoutPr} without a WebAuthn credential`;
      if (org.members.edges.length !== 50) return `${org.members.edges.length} edges, wanted 50`;
      return null;
    });
  }

  // The login scenario: present in the schema? its users seeded?
  let login = null;
  let webAuthnLogin = null;
  let loginSkip = null;
  const probe = await probeLogin(service.url, loginToken);
  if (!probe.implemented) {
    loginSkip = 'skipped: not implemented';
    notes.push(`login scenario skipped: ${probe.detail}.`);
  } else {
    const users = await seedTotpUsers({
      databaseUrl,
      encryptionKeyBase64: secrets.encryptionKey,
      count: LOGIN_USERS,
      connect,
      serviceRoot: SERVICE_ROOT,
    });
    login = new LoginWorkload(users, loginToken);
    webAuthnLogin = new WebAuthnLoginWorkload(
      await seedWebAuthnUsers({ databaseUrl, count: WEBAUTHN_USERS, connect }),
      loginToken,
    );
    // Logins with a remembered browser: some of the same users, each with a trusted device.
    const deviceProbe = await probeTrustedDevices(service.url, loginToken);
    if (deviceProbe.implemented) {
      login.devices = await seedTrustedDevices({
        databaseUrl,
        encryptionKeyBase64: secrets.encryptionKey,
        users: users.slice(0, TRUSTED_DEVICE_USERS),
        connect,
        serviceRoot: SERVICE_ROOT,
      });
      await check('startLoginChallenge with a trusted device', service.url, login.deviceStartRequests(), (json) =>
        json?.data?.startLoginChallenge?.assertion ? null : 'no assertion: the device did not skip the code',
      );
      login.deviceAssertions = 0;
      login.deviceWithoutAssertion = 0;
    } else {
      notes.push(`trusted-device login skipped: ${deviceProbe.detail}.`);
    }
  }

  // CPU per request: the server measured, and what shares the two cores with it.
  const servers = { service, apollo, mercurius, floor };
  const sharedProcesses = {
    mariadb: pidOf('mariadbd'),
    redis: pidOf('redis-server'),
    'load generator': process.pid,
    ...(webhooks ? { 'webhook receiver': webhooks.receiver.pid } : {}),
  };
  for (const [name, pid] of Object.entries(sharedProcesses)) {
    if (pid === null) {
      notes.push(`CPU per request: no ${name} process found on this machine; its column stays empty.`);
      delete sharedProcesses[name];
    }
  }

  // The schedule: bare Apollo runs between the scenarios, so drift shows.
  const measurements = [];
  let order = 0;
  const run = async (key, title, target, options) => {
    order += 1;
    log(
      `${String(order).padStart(2)}. ${title}${options.rate && !title.includes('req/s') ? ` at ${options.rate} req/s` : ''}`,
    );
    const common = {
      connections: settings.connections,
      duration: settings.duration,
      warmup: settings.warmup,
      ...options,
    };
    // A steady rate is paced by our own open-loop client; as fast as it goes, autocannon.
    // Paced passes on the service also record its event-loop delay and GC pauses (from its /metrics).
    const watchStalls = options.rate && options.url === service.url;
    const before = watchStalls ? await runtimeFigures(service.url) : null;
    common.cpu = () => cpuTimes({ [target]: servers[target].pid, ...sharedProcesses });
    const measurement = options.rate ? await measurePaced(common) : await measure(common);
    if (watchStalls) measurement.runtime = stallsBetween(before, await runtimeFigures(service.url));
    for (const server of [service, apollo, mercurius]) {
      if (server.exited)
        throw new Error(
          `${server.name} exited during "${title}" (${JSON.stringify(server.exit)}); its log ends:\n${server.tail(30)}`,
        );
    }
    const entry = { order, key, title, url: target, measurement };
    measurements.push(entry);
    log(
      `    ${measurement.requestsPerSecond} req/s, p50 ${measurement.latencyMs.p50} ms, p99 ${measurement.latencyMs.p99} ms, errors ${measurement.errors}` +
        (measurement.correctedLatencyMs
          ? ` (from due time: p50 ${measurement.correctedLatencyMs.p50} ms, p99 ${measurement.correctedLatencyMs.p99} ms)`
          : ''),
    );
    if (measurement.errors > 0 && measurement.errorDetail.firstErrorBody)
      log(`    first error: ${measurement.errorDetail.firstErrorBody}`);
    return measurement;
  };
  const apolloRun = (n) =>
    run('apollo', `bare Apollo Server 5 on Fastify 5, { __typename } (#${n})`, 'apollo', {
      url: apollo.url,
      requests: baseline.apollo,
    });
  const mercuriusRun = (n) =>
    run('mercurius', `bare Mercurius 16 with JIT, { __typename } (#${n})`, 'mercurius', {
      url: mercurius.url,
      requests: baseline.mercurius,
    });

  await apolloRun(1);
  await mercuriusRun(1);
  const accessPeak = await run('access', 'organizationAccess (twofactor:read)', 'service', {
    url: service.url,
    requests: access,
  });
  await run('access-floor', "the read floor: organizationAccess's one SELECT on Fastify + mysql2", 'floor', {
    url: floor.url,
    requests: accessFloorRequests(),
  });
  const mePeak = await run('me', 'me { twoFactor { enabled methods } }', 'service', { url: service.url, requests: me });
  await apolloRun(2);
  let startPeak;
  let verifyPeak;
  let floorLoad;
  let devicePeak;
  if (login) {
    startPeak = await run('login-start', 'login step 1: startLoginChallenge', 'service', {
      url: service.url,
      requests: login.startRequests(),
    });
    verifyPeak = await run('login-verify', 'login step 2: verifyLoginChallenge (TOTP)', 'service', {
      url: service.url,
      requests: login.verifyRequests(),
    });
    // One request source for both floor passes, so every step it sends is a new one.
    floorLoad = floorRequests(await seedFloorUsers(databaseUrl, connect));
    await run('verify-floor', 'the verification floor: lock, conditional UPDATE, audit INSERT, COMMIT', 'floor', {
      url: floor.url,
      requests: floorLoad,
    });
    await run('login-webauthn-start', 'login step 1 with webAuthnOptions', 'service', {
      url: service.url,
      requests: webAuthnLogin.startRequests(),
    });
    await run('login-webauthn-verify', 'login step 2: verifyLoginChallenge (WebAuthn)', 'service', {
      url: service.url,
      requests: webAuthnLogin.verifyRequests(),
    });
    if (login.devices.length > 0) {
      devicePeak = await run(
        'login-device',
        'login with a trusted device: startLoginChallenge(deviceToken)',
        'service',
        {
          url: service.url,
          requests: login.deviceStartRequests(),
        },
      );
    }
  }
  const organizationLoaded = {};
  for (const size of ORGANIZATION_SIZES) {
    organizationLoaded[size.label] = await run(
      `organization-${size.label}`,
      `organization of ${size.label} members`,
      'service',
      {
        url: service.url,
        requests: organization[size.label],
      },
    );
  }
  // The phishing-resistant counters and filter at a million members, loaded.
  const organizationPrLoaded = {
    '1m': await run('organization-pr-1m', 'organization of 1m members, phishingResistant: false', 'service', {
      url: service.url,
      requests: organizationPr['1m'],
    }),
  };
  await apolloRun(3);
  const half = (m) => Math.max(1, Math.round(m.requestsPerSecond / 2));
  await run('access-half', 'organizationAccess at half its peak rate', 'service', {
    url: service.url,
    requests: access,
    rate: half(accessPeak),
    warmup: 1,
  });
  await run('me-half', 'me at half its peak rate', 'service', {
    url: service.url,
    requests: me,
    rate: half(mePeak),
    warmup: 1,
  });
  if (login) {
    await run('login-start-half', 'login step 1 at half its peak rate', 'service', {
      url: service.url,
      requests: login.startRequests(),
      rate: half(startPeak),
      warmup: 1,
    });
    await run('login-verify-half', 'login step 2 at half its peak rate', 'service', {
      url: service.url,
      requests: login.verifyRequests(),
      rate: half(verifyPeak),
      warmup: 1,
    });
    // The same rate on the floor: what one durable COMMIT's tail (the disk's fsync) leaves of a 25 ms p99.
    await run('verify-floor-paced', `the verification floor paced at ${half(verifyPeak)} req/s`, 'floor', {
      url: floor.url,
      requests: floorLoad,
      rate: half(verifyPeak),
      warmup: 1,
    });
    if (devicePeak) {
      await run('login-device-half', 'login with a trusted device at half its peak rate', 'service', {
        url: service.url,
        requests: login.deviceStartRequests(),
        rate: half(devicePeak),
        warmup: 1,
      });
    }
  }
  // The floor of a paced measurement on this machine: bare Apollo at the same rate.
  await run('apollo-paced', `bare Apollo on Fastify paced at ${half(accessPeak)} req/s`, 'apollo', {
    url: apollo.url,
    requests: baseline.apollo,
    rate: half(accessPeak),
    warmup: 1,
  });
  // The floor of a paced read that asks MariaDB: its stalls and the machine's, without the service.
  await run('access-floor-paced', `the read floor paced at ${half(accessPeak)} req/s`, 'floor', {
    url: floor.url,
    requests: accessFloorRequests(),
    rate: half(accessPeak),
    warmup: 1,
  });
  const organizationSingle = {};
  for (const size of ORGANIZATION_SIZES) {
    organizationSingle[size.label] = await run(
      `organization-${size.label}-single`,
      `organization of ${size.label} members, 1 connection`,
      'service',
      {
        url: service.url,
        requests: organization[size.label],
        connections: 1,
        duration: settings.latencyDuration,
        warmup: 1,
      },
    );
  }
  const organizationPrSingle = {};
  for (const size of ORGANIZATION_SIZES) {
    organizationPrSingle[size.label] = await run(
      `organization-pr-${size.label}-single`,
      `organization of ${size.label} members, phishingResistant: false, 1 connection`,
      'service',
      {
        url: service.url,
        requests: organizationPr[size.label],
        connections: 1,
        duration: settings.latencyDuration,
        warmup: 1,
      },
    );
  }
  await mercuriusRun(2);
  await apolloRun(4);

  stopSampling();
  // Deliveries of the last scenario's events are due within a poll interval.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const webhookSummary = webhooks ? await webhooks.summary() : null;
  if (webhookSummary) {
    notes.push(
      `webhooks: a live receiver verified ${webhookSummary.requests} deliveries of ${webhookSummary.distinctIds} events (${Object.entries(
        webhookSummary.byType,
      )
        .map(([type, count]) => `${count} ${type}`)
        .join(
          ', ',
        )}); ${webhookSummary.invalid} bad signatures; the oldest event still pending at the end was ${webhookSummary.oldestPendingSeconds} s old.`,
    );
  } else {
    notes.push('webhooks: off (BENCH_WEBHOOKS=0): no endpoint, so changes write no outbox rows.');
  }
  const memory = {
    serviceMb: service.peakRssKb / 1024,
    apolloMb: apollo.peakRssKb / 1024,
    mercuriusMb: mercurius.peakRssKb / 1024,
  };
  const serviceLog = await summarizeLog(join(workDir, 'service.log'));
  if (serviceLog.errorLines > 0)
    notes.push(`the service logged ${serviceLog.errorLines} error lines; first: ${serviceLog.firstError}`);
  if (login)
    notes.push(
      `login: ${login.challenges.length} challenges collected, ${login.exhausted} verifications found none left, ${login.skippedForReplay} skipped to avoid TOTP replay.`,
    );
  if (login?.devices.length)
    notes.push(
      `login with a trusted device: ${login.devices.length} devices seeded; ${login.deviceAssertions} starts came back with an assertion, ${login.deviceWithoutAssertion} without (should be 0).`,
    );

  // Ratios: against the mean of the bare Apollo runs just before and just after.
  const apolloRuns = measurements.filter((entry) => entry.key === 'apollo');
  const ratioFor = (entry) => {
    const before = apolloRuns.filter((b) => b.order < entry.order).at(-1);
    const after = apolloRuns.find((b) => b.order > entry.order);
    const around = [before, after].filter(Boolean).map((b) => b.measurement.requestsPerSecond);
    const reference = around.reduce((sum, value) => sum + value, 0) / around.length;
    return entry.measurement.requestsPerSecond / reference;
  };
  const entryOf = (key) => measurements.find((entry) => entry.key === key);
  const clean = (m) => m.errors === 0;
  const verdict = (ok, m) => (m && !clean(m) ? `MISSED: ${m.errors} errors` : ok ? 'met' : 'MISSED');
  const rows = [];
  const addRow = (key, title, target, judge) => {
    const entry = entryOf(key);
    if (!entry) return;
    const ratio = entry.measurement.paced || entry.key.endsWith('-single') ? null : ratioFor(entry);
    const ok = judge(entry.measurement, ratio);
    rows.push({
      key,
      title,
      measurement: entry.measurement,
      ratio,
      target,
      verdict: verdict(ok, entry.measurement),
      met: ok && clean(entry.measurement),
    });
  };
  /** The service's pass against its floor's: a ratio of req/s, judged when a target is given. */
  const addFloorRow = (key, serviceKey, floorKey, title, target) => {
    const [service, floor] = [entryOf(serviceKey), entryOf(floorKey)];
    if (!service || !floor) return;
    const [served, floored] = [service.measurement.requestsPerSecond, floor.measurement.requestsPerSecond];
    const ratio = Number((served / floored).toFixed(2));
    const met = target === null ? undefined : ratio >= target;
    rows.push({
      key,
      title: `${title} (${served} / ${floored} req/s)`,
      measurement: service.measurement,
      ratio,
      target: target === null ? 'reference' : `ratio ≥ ${target.toFixed(2)} of the floor`,
      verdict: target === null ? '' : met ? 'met' : 'missed',
      met,
    });
  };
  addRow('mercurius', 'bare Mercurius 16 with JIT (#1)', 'reference', () => true);
  rows.at(-1).verdict = '';
  addRow('access', 'organizationAccess, peak', 'ratio ≥ 0.70', (_m, r) => r >= 0.7);
  addRow(
    'access-half',
    `organizationAccess at half peak, paced (${half(accessPeak)} req/s)`,
    'p99 < 10 ms',
    (m) => m.correctedLatencyMs.p99 < 10,
  );
  addRow(
    'access-floor',
    "the read floor (Fastify + mysql2: organizationAccess's one SELECT), peak",
    'reference',
    () => true,
  );
  rows.at(-1).verdict = '';
  addFloorRow('access-vs-floor', 'access', 'access-floor', 'organizationAccess against the read floor', null);
  addRow('me', 'me { twoFactor }, peak', 'ratio ≥ 0.60', (_m, r) => r >= 0.6);
  addRow(
    'me-half',
    `me at half peak, paced (${half(mePeak)} req/s)`,
    'p99 < 10 ms',
    (m) => m.correctedLatencyMs.p99 < 10,
  );
  if (login) {
    addRow('login-start', 'login step 1 startLoginChallenge, peak', 'ratio ≥ 0.40', (_m, r) => r >= 0.4);
    addRow(
      'login-start-half',
      `login step 1 at half peak, paced (${half(startPeak)} req/s)`,
      'p99 < 25 ms',
      (m) => m.correctedLatencyMs.p99 < 25,
    );
    addRow('login-verify', 'login step 2 verifyLoginChallenge, peak', 'ratio ≥ 0.40', (_m, r) => r >= 0.4);
    addRow(
      'verify-floor',
      'the verification floor (Fastify + mysql2: lock, UPDATE, INSERT, COMMIT), peak',
      'reference',
      () => true,
    );
    rows.at(-1).verdict = '';
    addFloorRow('login-verify-vs-floor', 'login-verify', 'verify-floor', 'login step 2 against the floor', 0.5);
    addRow('login-webauthn-start', 'login step 1 with webAuthnOptions, peak', 'measured', () => true);
    addRow(
      'login-webauthn-verify',
      'login step 2 verifyLoginChallenge with a security key, peak',
      'measured',
      () => true,
    );
    addRow(
      'login-verify-half',
      `login step 2 at half peak, paced (${half(verifyPeak)} req/s)`,
      'p99 < 25 ms',
      (m) => m.correctedLatencyMs.p99 < 25,
    );
    addRow(
      'verify-floor-paced',
      `the verification floor paced at ${half(verifyPeak)} req/s`,
      'the floor of the paced login steps that commit',
      () => true,
    );
    rows.at(-1).verdict = '';
    // One step and no code for the user; for the service an indexed query and a small transaction (the use, audited).
    addRow(
      'login-device',
      'start with a trusted device: startLoginChallenge(deviceToken), peak',
      'ratio ≥ 0.40',
      (_m, r) => r >= 0.4,
    );
    if (devicePeak) {
      addRow(
        'login-device-half',
        `start with a trusted device at half peak, paced (${half(devicePeak)} req/s)`,
        'p99 < 25 ms',
        (m) => m.correctedLatencyMs.p99 < 25,
      );
    }
  } else {
    rows.push({
      key: 'login',
      title: 'login: startLoginChallenge + verifyLoginChallenge',
      skipped: loginSkip,
      target: 'ratio ≥ 0.40 per step; p99 < 25 ms at half peak',
      verdict: 'not measured',
    });
  }
  addRow(
    'apollo-paced',
    `bare Apollo on Fastify, paced at ${half(accessPeak)} req/s`,
    'the floor of the paced rows on this machine',
    () => true,
  );
  rows.at(-1).verdict = '';
  addRow(
    'access-floor-paced',
    `the read floor (Fastify + mysql2), paced at ${half(accessPeak)} req/s`,
    'the floor of the paced reads that ask MariaDB',
    () => true,
  );
  rows.at(-1).verdict = '';
  for (const size of ORGANIZATION_SIZES) {
    addRow(`organization-${size.label}`, `organization ${size.label} members, 16 connections`, '', () => true);
    rows.at(-1).verdict = '';
    rows.at(-1).target = '';
  }
  const single10k = organizationSingle['10k'];
  const single1m = organizationSingle['1m'];
  addRow(
    'organization-10k-single',
    'organization 10k members, 1 connection (time per query)',
    'reference for growth',
    () => true,
  );
  rows.at(-1).verdict = '';
  addRow('organization-100k-single', 'organization 100k members, 1 connection', '', () => true);
  rows.at(-1).verdict = '';
  addRow(
    'organization-1m-single',
    'organization 1M members, 1 connection',
    `p99 < 20 ms; p50 < 2 × 10k's (${(2 * single10k.latencyMs.p50).toFixed(2)} ms)`,
    (m) => m.latencyMs.p99 < 20 && m.latencyMs.p50 < 2 * single10k.latencyMs.p50,
  );
  addRow('organization-pr-1m', 'organization 1M members, phishingResistant: false, 16 connections', '', () => true);
  rows.at(-1).verdict = '';
  const prSingle10k = organizationPrSingle['10k'];
  addRow(
    'organization-pr-10k-single',
    'organization 10k members, phishingResistant: false, 1 connection',
    'reference for growth',
    () => true,
  );
  rows.at(-1).verdict = '';
  addRow(
    'organization-pr-100k-single',
    'organization 100k members, phishingResistant: false, 1 connection',
    '',
    () => true,
  );
  rows.at(-1).verdict = '';
  addRow(
    'organization-pr-1m-single',
    'organization 1M members, phishingResistant: false, 1 connection',
    `p99 < 20 ms; p50 < 2 × 10k's (${(2 * prSingle10k.latencyMs.p50).toFixed(2)} ms)`,
    (m) => m.latencyMs.p99 < 20 && m.latencyMs.p50 < 2 * prSingle10k.latencyMs.p50,
  );
  rows.push({
    key: 'rss',
    title: `peak RSS of the service (VmHWM): ${memory.serviceMb.toFixed(1)} MB`,
    skipped: '—',
    target: 'RSS < 250 MB',
    verdict: memory.serviceMb < 250 ? 'met' : 'MISSED',
    met: memory.serviceMb < 250,
  });

  const results = {
    date: now.toISOString(),
    elapsedSeconds: Math.round((performance.now() - began) / 1000),
    machine: { ...machine, loadAverageAfter: os.loadavg().map((value) => Number(value.toFixed(2))) },
    settings: {
      duration: settings.duration,
      warmup: settings.warmup,
      connections: settings.connections,
      latencyDuration: settings.latencyDuration,
      webhooks: settings.webhooks,
    },
    serviceEnvironment: {
      NODE_ENV: 'production',
      DATABASE_URL: `mysql://root@127.0.0.1:3306/${database} (dropped after the run)`,
      REDIS_URL: redisUrl,
      SMS_PROVIDER: 'sns',
      SNS_ENDPOINT: 'http://127.0.0.1:<a closed port>/',
      AUTH_ISSUER,
      AUTH_AUDIENCE,
      TRUST_PROXY: '1',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: settings.webhooks ? 'true (a live receiver on loopback)' : 'unset (no endpoint)',
      LOG_LEVEL: 'info (default: one line per request)',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    serviceStartMs,
    serviceBuild: serviceBuild(),
    seeding,
    plainMembersQueryPlans: {
      query:
        'EXPLAIN SELECT ... FROM memberships WHERE organization_id = ? AND two_factor_enabled = 0 (or phishing_resistant = 0) ORDER BY user_id LIMIT 51 (no index hint)',
      plans,
    },
    checks,
    rows,
    baselines: measurements
      .filter((entry) => entry.key === 'apollo' || entry.key === 'mercurius')
      .map(({ order: o, title, measurement }) => ({ order: o, title, measurement })),
    organizationGrowth: ORGANIZATION_SIZES.map((size) => ({
      label: size.label,
      members: size.members,
      loaded: organizationLoaded[size.label],
      single: organizationSingle[size.label],
    })),
    growth1mOver10k:
      single1m && single10k ? Number((single1m.latencyMs.p50 / single10k.latencyMs.p50).toFixed(2)) : null,
    organizationPhishingResistantGrowth: ORGANIZATION_SIZES.map((size) => ({
      label: size.label,
      members: size.members,
      loaded: organizationPrLoaded[size.label] ?? null,
      single: organizationPrSingle[size.label],
    })),
    memory,
    webhooks: webhookSummary,
    serviceLog,
    measurements,
    notes,
    targetsMet: rows.filter((row) => row.met).length,
    targetsMissed: rows.filter((row) => row.verdict?.startsWith('MISSED')).map((row) => row.title),
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const { jsonFile, text } = writeResults(join(ROOT, 'bench/results'), stamp, results);
  updateReadme(join(ROOT, 'bench/README.md'), text, `bench/results/${stamp}.json`);
  process.stdout.write(`\n${text}\n`);
  log(`wrote ${jsonFile.slice(ROOT.length + 1)} and the table in bench/README.md`);
}

/** Error lines of the service's log (level 50 and up), read as a stream: the log holds a line per request. */
async function summarizeLog(file) {
  const summary = { bytes: 0, lines: 0, errorLines: 0, firstError: null };
  try {
    summary.bytes = statSync(file).size;
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      summary.lines += 1;
      if (/"level":(50|60)/.test(line)) {
        summary.errorLines += 1;
        summary.firstError ??= line.slice(0, 400);
      }
    }
  } catch {
    // no log
  }
  return summary;
}

main()
  .then(async () => {
    await cleanup();
    log(
      `done in ${((performance.now() - began) / 1000).toFixed(0)} s; ${database} dropped, Redis db ${settings.redisDb} flushed`,
    );
    process.exit(0);
  })
  .catch(async (error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    if (process.env.BENCH_KEEP_LOGS === undefined)
      process.stderr.write(`(set BENCH_KEEP_LOGS=1 to keep the servers' logs)\n`);
    await cleanup();
    process.exit(1);
  });

/** Waits for a baseline that prints "ready <port>" and answers POST. */
async function waitForFloor(server, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`${server.name} exited: ${server.tail()}`);
    try {
      const response = await fetch(`${server.url}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(2_000),
      });
      if (response.status) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${server.name} did not answer within ${timeoutMs} ms`);
}

/** Users for the floor only (the login users' steps stay the service's). */
async function seedFloorUsers(url, connect, count = 20_000) {
  const users = Array.from({ length: count }, (_, i) => `bfloor-u${String(i).padStart(6, '0')}`);
  const connection = await connect(url);
  try {
    const now = new Date();
    for (let offset = 0; offset < users.length; offset += 5_000) {
      await connection.query(
        'INSERT INTO users (id, two_factor_enabled, failed_attempts_in_row, created_at) VALUES ?',
        [users.slice(offset, offset + 5_000).map((id) => [id, 1, 0, now])],
      );
    }
  } finally {
    await connection.end();
  }
  return users;
}

/** Each request a user's next step, so every conditional UPDATE succeeds as a right code's would. */
function floorRequests(users) {
  let next = 0;
  return [
    {
      method: 'POST',
      path: '/verify',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        const n = next++;
        const body = JSON.stringify({ userId: users[n % users.length], step: 1 + Math.floor(n / users.length) });
        return { ...request, body };
      },
    },
  ];
}

/** The service's event-loop delay (prom-client resets its histogram at each scrape) and GC totals. */
async function runtimeFigures(url) {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const value = (name) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : null;
  };
  const gc = {};
  for (const match of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([\d.e+-]+)$/gm)) {
    gc[match[2]] ??= {};
    gc[match[2]][match[1]] = Number(match[3]);
  }
  return {
    eventLoopDelayMs: {
      p50: value('nodejs_eventloop_lag_p50_seconds'),
      p99: value('nodejs_eventloop_lag_p99_seconds'),
      max: value('nodejs_eventloop_lag_max_seconds'),
    },
    gc,
  };
}

/** What happened between two scrapes: the window's event-loop delay and the GC pauses in it. */
function stallsBetween(before, after) {
  const ms = (seconds) => (seconds === null ? null : Number((seconds * 1000).toFixed(2)));
  const gc = {};
  for (const [kind, figures] of Object.entries(after.gc)) {
    const count = figures.count - (before.gc[kind]?.count ?? 0);
    const sum = figures.sum - (before.gc[kind]?.sum ?? 0);
    if (count > 0) gc[kind] = { pauses: count, totalMs: ms(sum), meanMs: ms(sum / count) };
  }
  return {
    eventLoopDelayMs: {
      p50: ms(after.eventLoopDelayMs.p50),
      p99: ms(after.eventLoopDelayMs.p99),
      max: ms(after.eventLoopDelayMs.max),
    },
    gc,
  };
}
