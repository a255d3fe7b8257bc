#!/usr/bin/env node
// `npm run bench` (issues 8 and 22): the service with production settings on
// this machine's MariaDB and Redis, bare Apollo-on-Fastify and Mercurius
// baselines and the floors alternating with the scenarios (lib/plan.mjs), the
// targets judged (lib/targets.mjs), results in bench/results/<date>.json and .md
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
import { floorSteps, seedFloorUsers, waitForFloor } from './lib/floor.mjs';
import { measure, measurePaced } from './lib/load.mjs';
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
  allTargets,
  GROUPS,
  SCENARIOS,
  SCHEDULE,
  scenario as scenarioOf,
  usesOrganizations,
  validatePlan,
} from './lib/plan.mjs';
import {
  cpuTimes,
  freePort,
  killAllNow,
  pidOf,
  processAgeSeconds,
  sampleMemory,
  startNode,
  stopAll,
  waitForGraphql,
  waitForHttp,
} from './lib/processes.mjs';
import { updateReadme, writeResults } from './lib/report.mjs';
import { KeyRotationRun, rotationSkip, seedRotationValues } from './lib/rotation.mjs';
import { otelVariablesOf, TRACED, TracingRun, tracingSkip } from './lib/tracing.mjs';
import {
  accessFloorRequests,
  checkOnce,
  meRequests,
  organizationRequests,
  readRequests,
  typenameRequests,
} from './lib/scenarios.mjs';
import {
  connect,
  createDatabase,
  dropDatabase,
  explainMembersPage,
  listBenchDatabases,
  ORGANIZATION_SIZES,
  seedOrganizations,
  serverUrl,
  waitForQuietDatabase,
} from './lib/seed.mjs';
import { entryOf, floorPacedKey, halfPeakKey, judge, ratioToApollo, tally } from './lib/targets.mjs';
import {
  seedWebAuthnUsers,
  WEBAUTHN_ORIGIN,
  WEBAUTHN_RP_ID,
  WEBAUTHN_USERS,
  WebAuthnLoginWorkload,
} from './lib/webauthn.mjs';
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
  // BENCH_ONLY=key,key: only these scenarios (a short pass while working on one; bench/README.md is left alone).
  // A group's key (GROUPS in lib/plan.mjs, e.g. `tracing`) stands for its scenarios.
  only: process.env.BENCH_ONLY
    ? new Set(
        process.env.BENCH_ONLY.split(',')
          .map((key) => key.trim())
          .filter(Boolean)
          .flatMap((key) => GROUPS[key] ?? [key]),
      )
    : null,
};
for (const key of settings.only ?? []) {
  if (!SCENARIOS.some((candidate) => candidate.key === key)) throw new Error(`BENCH_ONLY: ${key} is no scenario`);
}
const selected = (key) => !settings.only || settings.only.has(key);
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
  validatePlan();
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
  // The service's settings; `npm run keys:rotate` (the re-encryption pass) runs with the same.
  const serviceEnv = {
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
  };
  // e.g. BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service under the load.
  // As `npm start` and the Dockerfile run it.
  const serviceNodeArgs = [
    '--max-semi-space-size=16',
    '--max-old-space-size=192',
    ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const service = startNode('service', join(SERVICE_ROOT, 'dist/src/main.js'), {
    cwd: SERVICE_ROOT,
    nodeArgs: serviceNodeArgs,
    port: servicePort,
    logFile: join(workDir, 'service.log'),
    env: serviceEnv,
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
  // Tracing off, as the running process has it (the kernel's copy of its environment): no OTEL_* at all.
  const serviceOtelVariables = otelVariablesOf(service.pid);
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

  const seedStarted = performance.now();
  const needsOrganizations = SCENARIOS.some((candidate) => selected(candidate.key) && usesOrganizations(candidate));
  if (needsOrganizations) log('seeding organizations of 10k, 100k and 1M members with SQL');
  const seeded = needsOrganizations ? await seedOrganizations(databaseUrl, { log }) : { timings: [] };
  const seeding = { ...seeded, totalSeconds: Number(((performance.now() - seedStarted) / 1000).toFixed(1)) };
  seeding.afterwards = await waitForQuietDatabase(settings.mysqlRootUrl, { log });
  // For the record: what MariaDB picks by itself for a plain members page query with
  // no index hint (the service may give one): the seeded statistics' view.
  const plans = {};
  const describePlan = (plan) =>
    plan.map((step) => `${step.type} on ${step.key}${step.extra ? ` (${step.extra})` : ''}`).join('; ');
  for (const size of needsOrganizations ? ORGANIZATION_SIZES : []) {
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
  /** Why a pass did not run, by its key: shown in its row, and as its targets' reason. */
  const skipped = {};

  // Tracing on (issue 27): the OTLP receiver for the run; the traced service is started for each of its passes.
  let tracingSkipReason = tracingSkip(SERVICE_ROOT);
  let tracing = null;
  const tracedSelected = SCENARIOS.some((candidate) => candidate.server === TRACED && selected(candidate.key));
  if (tracingSkipReason) notes.push(`tracing on skipped: no dist/src/telemetry/tracing.js in ${SERVICE_ROOT}.`);
  else if (!tracedSelected) tracingSkipReason = 'not selected (BENCH_ONLY)';
  else {
    tracing = new TracingRun({
      root: ROOT,
      serviceRoot: SERVICE_ROOT,
      serviceEnv,
      nodeArgs: serviceNodeArgs,
      baseEnv,
      workDir,
    });
    // Before the re-encryption pass's values under an older key are seeded: an instance started after them refuses to.
    await tracing.start();
    log(
      `tracing on: OTLP receiver at ${tracing.receiver.url}; the service with tracing on ready in ${tracing.startMs} ms, paused until its passes`,
    );
  }

  // The login scenario: present in the schema? its users seeded?
  let loginSkip = null;
  let deviceSkip = null;
  let login = null;
  let webAuthnLogin = null;
  let floorLoad = null;
  const { LIMITS } = require(join(SERVICE_ROOT, 'dist/src/limits.js'));
  const workloadOptions = { maxChallengeAgeMs: (LIMITS.challengeTtlSeconds - 30) * 1000 };
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
    login = new LoginWorkload(users, loginToken, workloadOptions);
    webAuthnLogin = new WebAuthnLoginWorkload(
      await seedWebAuthnUsers({ databaseUrl, count: WEBAUTHN_USERS, connect }),
      loginToken,
      workloadOptions,
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
    } else {
      deviceSkip = 'skipped: not implemented';
      notes.push(`trusted-device login skipped: ${deviceProbe.detail}.`);
    }
    // One request source for every durable-floor pass, so every step it sends is a new one.
    floorLoad = floorSteps(await seedFloorUsers(databaseUrl, connect));
  }

  // Re-encryption under load: a million TOTP secrets under an older key, for `npm run keys:rotate`.
  let rotationSkipReason = rotationSkip(SERVICE_ROOT);
  let keyRotation = null;
  if (rotationSkipReason) notes.push(`re-encryption skipped: no dist/scripts/keys-rotate.js in ${SERVICE_ROOT}.`);
  else if (!selected('login-verify-rotating')) rotationSkipReason = 'not selected (BENCH_ONLY)';
  else {
    log('seeding a million TOTP secrets under an older key (for the re-encryption pass)');
    const rotationSeed = await seedRotationValues({ databaseUrl, connect, serviceRoot: SERVICE_ROOT, log });
    seeding.rotation = { values: 1_000_000, seconds: rotationSeed.seconds };
    log(`  seeded in ${rotationSeed.seconds} s`);
    const run = new KeyRotationRun({
      serviceRoot: SERVICE_ROOT,
      databaseUrl,
      currentKeyBase64: secrets.encryptionKey,
      oldKeyBase64: rotationSeed.oldKeyBase64,
      env: serviceEnv,
      workDir,
    });
    keyRotation = () => run.start();
  }

  // What the scenarios of lib/plan.mjs build their requests from.
  const me = await meRequests((subject) => sign(subject, []));
  const ctx = {
    readToken,
    loginToken,
    loginSkip,
    deviceSkip,
    login,
    webAuthnLogin,
    floorLoad,
    rotationSkip: rotationSkipReason,
    keyRotation,
    tracingSkip: tracingSkipReason,
    me,
    typename: typenameRequests,
    floorAccess: accessFloorRequests,
    organization: (label, query) => organizationRequests(readToken, label, query),
    graphql: (query, variables) => readRequests(readToken, query, variables),
  };

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

  // Before any load: what is skipped, and that each checked scenario answers what it means to measure.
  for (const scenario of SCENARIOS) {
    const reason =
      selected(scenario.key) || scenario.role === 'reference' ? scenario.skip?.(ctx) : 'skipped: not in BENCH_ONLY';
    if (reason) {
      skipped[scenario.key] = reason;
      continue;
    }
    if (!scenario.check) continue;
    const answer = await checkOnce(servers[scenario.server].url, await scenario.requests(ctx));
    checks[scenario.key] = { status: answer.status, body: answer.body };
    const invalid = (answer.json?.errors ?? []).find((error) => error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED');
    if (invalid) {
      skipped[scenario.key] = 'skipped: not implemented';
      notes.push(`${scenario.name} skipped: the service answers GRAPHQL_VALIDATION_FAILED (${invalid.message}).`);
      continue;
    }
    const problem = scenario.check(answer.json);
    if (problem)
      notes.push(`check of ${scenario.name} before its load: ${problem} (answer: ${answer.body.slice(0, 200)})`);
  }

  // The schedule (lib/plan.mjs): bare Apollo runs between the groups, so drift shows.
  const measurements = [];
  const counts = {};
  const pass = async (key, title, serverName, options) => {
    const order = measurements.length + 1;
    log(`${String(order).padStart(2)}. ${title}`);
    const common = {
      connections: settings.connections,
      duration: settings.duration,
      warmup: settings.warmup,
      ...options,
    };
    const server = servers[serverName];
    // A steady rate is paced by our own open-loop client; as fast as it goes, autocannon.
    // Paced passes on the service also record its event-loop delay and GC pauses (from its /metrics).
    const watchStalls = options.rate && server === service;
    const before = watchStalls ? await runtimeFigures(service.url) : null;
    const receiver = serverName === TRACED ? { 'OTLP receiver': tracing.receiver.pid } : {};
    common.cpu = () => cpuTimes({ [serverName]: server.pid, ...sharedProcesses, ...receiver });
    const background = options.during ? await options.during(ctx) : null;
    const measurement = options.rate ? await measurePaced(common) : await measure(common);
    if (background) measurement.during = await background.stop();
    if (watchStalls) measurement.runtime = stallsBetween(before, await runtimeFigures(service.url));
    for (const running of [service, apollo, mercurius, floor, servers[TRACED]].filter(Boolean)) {
      if (running.exited)
        throw new Error(
          `${running.name} exited during "${title}" (${JSON.stringify(running.exit)}); its log ends:\n${running.tail(30)}`,
        );
    }
    measurements.push({ order, key, title, url: serverName, measurement });
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
  const peakOf = (key) => entryOf({ measurements }, key)?.measurement;
  const halfOf = (key) => Math.max(1, Math.round(peakOf(key).requestsPerSecond / 2));
  /** One scenario's pass: at full speed, or paced at half another's peak (pacedAtHalfOf). */
  const runScenario = async (scenario) => {
    if (skipped[scenario.key]) return;
    // The traced service runs for its own passes only: resumed here, paused after (its spans exported).
    if (scenario.server === TRACED) {
      servers[TRACED] = await tracing.resume();
      try {
        await runScenarioOn(scenario);
      } finally {
        delete servers[TRACED];
        const figures = await tracing.pause();
        const entry = entryOf({ measurements }, scenario.key);
        if (entry) entry.measurement.tracing = figures;
      }
      return;
    }
    await runScenarioOn(scenario);
  };
  const runScenarioOn = async (scenario) => {
    const single = scenario.options?.connections === 1;
    const options = {
      url: servers[scenario.server].url,
      requests: await scenario.requests(ctx),
      ...(single ? { duration: settings.latencyDuration, warmup: 1 } : {}),
      ...scenario.options,
      during: scenario.during,
    };
    let title = scenario.title;
    if (scenario.phase === 'baseline') {
      counts[scenario.key] = (counts[scenario.key] ?? 0) + 1;
      title = `${title} (#${counts[scenario.key]})`;
    }
    if (scenario.pacedAtHalfOf) {
      if (!peakOf(scenario.pacedAtHalfOf)) {
        skipped[scenario.key] = skipped[scenario.pacedAtHalfOf] ?? `${scenario.pacedAtHalfOf} not measured`;
        return;
      }
      options.rate = halfOf(scenario.pacedAtHalfOf);
      options.warmup = 1;
      title = `${title} (${options.rate} req/s)`;
    }
    await pass(scenario.key, title, scenario.server, options);
  };
  /** At half its peak rate, paced; then its floor paced at that same rate, right after (the same moment's machine). */
  const runHalfPeak = async (scenario) => {
    const halfKey = halfPeakKey(scenario.key);
    const floorScenario = scenarioOf(scenario.halfPeak.floor);
    const floorKey = floorPacedKey(floorScenario.key, scenario.key);
    if (!peakOf(scenario.key)) {
      skipped[halfKey] = skipped[scenario.key] ?? `${scenario.key} not measured`;
      skipped[floorKey] = skipped[halfKey];
      return;
    }
    const rate = halfOf(scenario.key);
    await pass(halfKey, `${scenario.name} at half its peak rate, paced (${rate} req/s)`, scenario.server, {
      url: servers[scenario.server].url,
      requests: await scenario.requests(ctx),
      rate,
      warmup: 1,
    });
    if (skipped[floorScenario.key]) {
      skipped[floorKey] = skipped[floorScenario.key];
      return;
    }
    await pass(floorKey, `${floorScenario.name} paced at ${rate} req/s (as ${scenario.name})`, floorScenario.server, {
      url: servers[floorScenario.server].url,
      requests: await floorScenario.requests(ctx),
      rate,
      warmup: 1,
    });
  };
  for (const item of SCHEDULE) {
    if (item.run) await runScenario(scenarioOf(item.run));
    else if (item.phase) {
      for (const scenario of SCENARIOS.filter((candidate) => candidate.phase === item.phase))
        await runScenario(scenario);
    } else if (item.halfPeak) {
      for (const scenario of SCENARIOS.filter((candidate) => candidate.halfPeak && selected(candidate.key)))
        await runHalfPeak(scenario);
    }
  }

  stopSampling();
  await tracing?.stop();
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
  const tracingSummary = tracingOnAndOff(measurements, {
    offOtelVariables: serviceOtelVariables,
    offPid: service.pid,
    tracedPid: tracing?.service.pid,
    receiverStats: tracing ? await tracing.stats() : null,
  });
  if (tracingSummary) notes.push(...tracingSummary.notes);
  if (serviceLog.errorLines > 0)
    notes.push(`the service logged ${serviceLog.errorLines} error lines; first: ${serviceLog.firstError}`);
  if (login)
    notes.push(
      `login: ${login.challenges.length} challenges collected, ${login.exhausted} verifications found none left, ${login.skippedForReplay} skipped to avoid TOTP replay, ${login.skippedStale} passed over near their expiry; with a security key: ${webAuthnLogin.challenges.length} collected, ${webAuthnLogin.exhausted} found none left, ${webAuthnLogin.skippedStale} passed over near their expiry.`,
    );
  if (login?.devices.length)
    notes.push(
      `login with a trusted device: ${login.devices.length} devices seeded; ${login.deviceAssertions} starts came back with an assertion, ${login.deviceWithoutAssertion} without (should be 0).`,
    );

  // The verdicts: every target of lib/plan.mjs judged by lib/targets.mjs, once.
  const bench = benchSeconds();
  const run = {
    measurements,
    skipped,
    figures: { serviceRssMb: Number(memory.serviceMb.toFixed(1)), benchSeconds: bench.seconds },
  };
  const targets = allTargets().map((target) => judge(target, run));
  const rows = tableRowsOf(run, targets, { memoryMb: memory.serviceMb, bench, tracing: tracingSummary });

  const results = {
    date: now.toISOString(),
    elapsedSeconds: Math.round((performance.now() - began) / 1000),
    benchSeconds: bench,
    machine: { ...machine, loadAverageAfter: os.loadavg().map((value) => Number(value.toFixed(2))) },
    settings: {
      duration: settings.duration,
      warmup: settings.warmup,
      connections: settings.connections,
      latencyDuration: settings.latencyDuration,
      webhooks: settings.webhooks,
      only: settings.only ? [...settings.only] : null,
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
      LOG_LEVEL: 'info (default: a line per refused request; answered ones at debug)',
      AWS_EC2_METADATA_DISABLED: 'true',
      'OTEL_*': "none: tracing off (the tracing passes' own process adds OTEL_EXPORTER_OTLP_ENDPOINT)",
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
    skipped,
    // Targets only: reference and measured rows are never counted.
    ...tally(targets),
    targets,
    rows,
    baselines: measurements
      .filter((entry) => entry.key === 'apollo' || entry.key === 'mercurius')
      .map(({ order: o, title, measurement }) => ({ order: o, title, measurement })),
    organizationGrowth: ORGANIZATION_SIZES.map((size) => ({
      label: size.label,
      members: size.members,
      loaded: peakOf(`organization-${size.label}`) ?? null,
      single: peakOf(`organization-${size.label}-single`) ?? null,
    })),
    organizationPhishingResistantGrowth: ORGANIZATION_SIZES.map((size) => ({
      label: size.label,
      members: size.members,
      loaded: peakOf(`organization-pr-${size.label}`) ?? null,
      single: peakOf(`organization-pr-${size.label}-single`) ?? null,
    })),
    memory,
    webhooks: webhookSummary,
    tracing: tracingSummary ? { ...tracingSummary, notes: undefined } : null,
    serviceLog,
    measurements,
    notes,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const { jsonFile, text } = writeResults(join(ROOT, 'bench/results'), stamp, results);
  // A partial run (BENCH_ONLY) is no run of the bench: its table does not replace the last one.
  if (!settings.only) updateReadme(join(ROOT, 'bench/README.md'), text, `bench/results/${stamp}.json`);
  process.stdout.write(`\n${text}\n`);
  log(
    `wrote ${jsonFile.slice(ROOT.length + 1)}${settings.only ? ' (BENCH_ONLY: bench/README.md left alone)' : ' and the table in bench/README.md'}`,
  );
}

/**
 * The table's rows, in SCENARIOS order (not run order): each scenario's pass,
 * then its half-peak pass and its floor paced alike; a skipped one with its
 * reason; then the run's own figures. Bare Apollo's runs have their own table.
 */
function tableRowsOf(run, targets, { memoryMb, bench, tracing }) {
  const rows = [];
  const targetIds = (key) => targets.filter((target) => target.row === key).map((target) => target.id);
  const add = (key, title, role, comparison) => {
    const entry = entryOf(run, key);
    if (!entry && !run.skipped[key]) return;
    const ratio = entry ? ratioToApollo(run, key) : null;
    rows.push({
      key,
      title: entry?.title ?? title,
      role,
      measurement: entry?.measurement ?? null,
      skipped: entry ? null : run.skipped[key],
      ratioToApollo: ratio === null ? null : Number(ratio.toFixed(3)),
      targets: targetIds(key),
      ...(comparison ? { comparison } : {}),
    });
  };
  for (const scenario of SCENARIOS) {
    if (scenario.key === 'apollo' || scenario.tracingOf) continue;
    add(scenario.key, scenario.title, scenario.role ?? 'scenario');
    // The same pass with tracing on, right under it (the row says its ratio to this one).
    for (const traced of SCENARIOS.filter((candidate) => candidate.tracingOf === scenario.key)) {
      const figures = tracing?.passes.find((candidate) => candidate.key === traced.key);
      add(traced.key, traced.title, 'scenario', figures?.text);
    }
    if (scenario.halfPeak) {
      add(halfPeakKey(scenario.key), `${scenario.name} at half its peak rate, paced`, 'scenario');
      const floorName = scenarioOf(scenario.halfPeak.floor).name;
      add(floorPacedKey(scenario.halfPeak.floor, scenario.key), `${floorName} paced alike`, 'reference');
    }
  }
  rows.push({
    key: 'rss',
    title: `peak RSS of the service (VmHWM): ${memoryMb.toFixed(1)} MB`,
    role: 'figure',
    targets: targetIds('rss'),
  });
  rows.push({
    key: 'duration',
    title: `the bench run: ${bench.seconds} s (${bench.from})`,
    role: 'figure',
    targets: targetIds('duration'),
  });
  return rows;
}

/**
 * How long the bench has run so far. Under `npm run bench` (build included),
 * from the start of npm's script shell, which ran tsc first; else from this
 * process's start.
 */
function benchSeconds() {
  const own = { seconds: Math.round((performance.now() - began) / 1000), from: 'this process, the build not included' };
  if (process.env.npm_lifecycle_event !== 'bench') return own;
  const parentAge = processAgeSeconds(process.ppid);
  return parentAge === null ? own : { seconds: Math.round(parentAge), from: '`npm run bench`: the build included' };
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

/**
 * Tracing on against off (issue 27): each traced pass beside the same pass on the
 * ordinary service in the same run (req/s ratio, latencies, the service's CPU per
 * request), the spans the receiver got; and what shows the ordinary service ran
 * without tracing: no OTEL_* in its environment, no span from its pid at the receiver.
 */
function tracingOnAndOff(measurements, { offOtelVariables, offPid, tracedPid, receiverStats }) {
  const traced = SCENARIOS.filter((candidate) => candidate.tracingOf);
  const passes = [];
  for (const scenario of traced) {
    const on = measurements.find((entry) => entry.key === scenario.key)?.measurement;
    const off = measurements.find((entry) => entry.key === scenario.tracingOf)?.measurement;
    if (!on) continue;
    const ratio = (a, b) => (a === null || a === undefined || !b ? null : Number((a / b).toFixed(3)));
    const cpu = (m, process) => m?.cpuUsPerRequest?.[process] ?? null;
    const figures = {
      key: scenario.key,
      of: scenario.tracingOf,
      on: {
        requestsPerSecond: on.requestsPerSecond,
        latencyMs: on.latencyMs,
        errors: on.errors,
        serviceCpuUsPerRequest: cpu(on, TRACED),
      },
      off: off
        ? {
            requestsPerSecond: off.requestsPerSecond,
            latencyMs: off.latencyMs,
            errors: off.errors,
            serviceCpuUsPerRequest: cpu(off, 'service'),
          }
        : null,
      requestsPerSecondRatio: ratio(on.requestsPerSecond, off?.requestsPerSecond),
      p50Ratio: ratio(on.latencyMs.p50, off?.latencyMs.p50),
      p99Ratio: ratio(on.latencyMs.p99, off?.latencyMs.p99),
      serviceCpuRatio: ratio(cpu(on, TRACED), cpu(off, 'service')),
      ...on.tracing,
    };
    const spans = on.tracing
      ? `; ${on.tracing.spans.toLocaleString('en-US')} spans received (${on.tracing.spansPerOperation ?? '?'} an operation)`
      : '';
    figures.text = off
      ? `${figures.requestsPerSecondRatio.toFixed(2)} × tracing off (${on.requestsPerSecond} / ${off.requestsPerSecond} req/s; service CPU ${figures.serviceCpuRatio === null ? '?' : figures.serviceCpuRatio.toFixed(2)} ×)${spans}`
      : `tracing off not measured${spans}`;
    passes.push(figures);
  }
  if (passes.length === 0) return null;
  // Which processes the receiver heard from, by the process.pid of their spans' resource.
  const byPid = receiverStats?.byPid ?? {};
  const fromOff = receiverStats ? (byPid[String(offPid)] ?? 0) : null;
  const fromOthers = Object.entries(byPid)
    .filter(([pid]) => pid !== String(tracedPid))
    .reduce((sum, [, count]) => sum + count, 0);
  const offText =
    offOtelVariables === null
      ? 'its environment could not be read'
      : offOtelVariables.length === 0
        ? 'its environment (/proc/<pid>/environ) has no OTEL_* variable, so it loads no OpenTelemetry module'
        : `its environment has ${offOtelVariables.join(', ')}`;
  const notes = [
    `tracing on: ${passes
      .map(
        (pass) =>
          `${pass.key}: ${pass.requestsPerSecondRatio ?? '?'} × the req/s with it off, p99 ${pass.on.latencyMs.p99} vs ${pass.off?.latencyMs.p99 ?? '?'} ms, ` +
          `${pass.spans ?? '?'} spans (${pass.serverSpans ?? '?'} server spans for ${pass.operationsServed ?? '?'} operations answered), traced service peak RSS ${pass.peakRssMb ?? '?'} MB`,
      )
      .join('; ')}.`,
    `tracing off (the ordinary rows): ${offText}; spans the receiver got from it: ${fromOff ?? '?'}, from any process but the traced one: ${receiverStats ? fromOthers : '?'} (both should be 0).`,
  ];
  return {
    receiver: 'bench/baselines/otlp-receiver.mjs on 127.0.0.1 (counts, answers 200)',
    tracedEnvironment:
      "the service's, plus OTEL_EXPORTER_OTLP_ENDPOINT (http/protobuf, sampler and batching at the SDK defaults)",
    off: {
      otelVariables: offOtelVariables,
      spansReceivedFromIt: fromOff,
      spansReceivedFromOtherThanTraced: receiverStats ? fromOthers : null,
    },
    spansReceivedByPid: receiverStats ? { traced: tracedPid, off: offPid, counts: byPid } : null,
    passes,
    notes,
  };
}
