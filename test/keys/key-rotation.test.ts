import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { pendingSetupBinding } from '../../src/factors/pending-setup.entity';
import { recoveryCodeBinding } from '../../src/factors/recovery-codes/recovery-code.entity';
import { smsPhoneBinding } from '../../src/factors/sms/sms-factor.entity';
import { totpSecretBinding } from '../../src/factors/totp/totp-factor.entity';
import { ManualClock } from '../../src/infra/clock';
import { SecretBox } from '../../src/infra/crypto/cipher';
import { base32Encode } from '../../src/infra/crypto/random';
import { KeyRotation } from '../../src/keys/key-rotation';
import { StoredCiphertexts } from '../../src/keys/stored-ciphertexts';
import { CIPHERTEXTS } from '../../src/modules';
import { sealedAsBefore } from '../support/legacy-ciphertexts';
import {
  createTestDatabase,
  ENCRYPTION_KEY,
  errorCode,
  startTestApp,
  type TestApp,
  uniqueId,
} from '../support/test-app';
import { startLogin } from '../support/trusted-devices';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method } }';

/** ENCRYPTION_KEY of the test apps: key `0`, and the key of every value written before key ids. */
const OLD = Buffer.from(ENCRYPTION_KEY, 'base64');
const NEW = randomBytes(32);
const keys = (...entries: [string, Buffer][]) =>
  entries.map(([id, key]) => `${id}:${key.toString('base64')}`).join(',');
/** The new key current, the old one retired under its id 0 (as ENCRYPTION_KEY named it). */
const ROTATING = { ENCRYPTION_KEY: '', ENCRYPTION_KEYS: keys(['k1', NEW], ['0', OLD]) };
const ROTATED = { ENCRYPTION_KEY: '', ENCRYPTION_KEYS: keys(['k1', NEW]) };

interface LegacyUser {
  userId: string;
  secret: string;
  phone: string;
  codes: string[];
}

/** A user as the service stored it before associated data: TOTP, a phone number, 10 recovery codes, all v1. */
async function seedLegacyUser(t: TestApp): Promise<LegacyUser> {
  const userId = uniqueId('legacy');
  const secret = base32Encode(randomBytes(20));
  const phone = `+1415555${String(1000 + Math.floor(Math.random() * 9000))}`;
  const codes = Array.from({ length: 10 }, () => base32Encode(randomBytes(16)).slice(0, 25));
  const before = new SecretBox(OLD);
  const now = t.clock.now();
  await t.sql(
    'INSERT INTO users (id, two_factor_enabled, enabled_at, failed_attempts_in_row, created_at) VALUES (?, 1, ?, 0, ?)',
    [userId, now, now],
  );
  await t.sql('INSERT INTO totp_factors (user_id, secret_ciphertext, created_at) VALUES (?, ?, ?)', [
    userId,
    sealedAsBefore(OLD, secret),
    now,
  ]);
  await t.sql(
    'INSERT INTO sms_factors (user_id, phone_ciphertext, phone_hash, phone_masked, created_at) VALUES (?, ?, ?, ?, ?)',
    [userId, sealedAsBefore(OLD, phone), before.hash(phone), '+1 ••• ••• 0000', now],
  );
  for (const [position, code] of codes.entries()) {
    await t.sql(
      'INSERT INTO recovery_codes (user_id, code_hash, code_ciphertext, position, created_at) VALUES (?, ?, ?, ?, ?)',
      [userId, before.hash(code), sealedAsBefore(OLD, code), position, now],
    );
  }
  return { userId, secret, phone, codes };
}

async function ciphertextsOf(t: TestApp, userId: string): Promise<string[]> {
  const rows = await t.sql(
    `SELECT secret_ciphertext AS c FROM totp_factors WHERE user_id = ?
     UNION ALL SELECT phone_ciphertext FROM sms_factors WHERE user_id = ?
     UNION ALL SELECT code_ciphertext FROM recovery_codes WHERE user_id = ?`,
    [userId, userId, userId],
  );
  return rows.map((row) => String(row.c));
}

const metricsOf = async (t: TestApp) => (await fetch(`${t.url}/metrics`)).text();

describe('key rotation', () => {
  const database = { url: '', drop: async () => {} };
  const clock = new ManualClock(new Date());
  const open: TestApp[] = [];
  const start = async (env: Record<string, string>) => {
    const t = await startTestApp({ databaseUrl: database.url, clock, env, manualBackgroundWork: true });
    open.push(t);
    return t;
  };
  const stop = async (t: TestApp) => {
    open.splice(open.indexOf(t), 1);
    await t.close();
  };

  beforeEach(async () => Object.assign(database, await createTestDatabase()));
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
    await database.drop();
  });

  it('rewrites values from before associated data under the current key, bound to their rows; the old key may then go', async () => {
    const before = await start({});
    const legacy = await seedLegacyUser(before);
    const enrolled = await enrollTotp(before, uniqueId('enrolled'));
    const counted = await metricsOf(before);
    expect(counted).toMatch(/^encrypted_values\{key_id="0"\} 23$/m);
    expect(counted).toMatch(/^encrypted_values_unbound\{key_id="0"\} 12$/m);
    await stop(before);

    const rotating = await start(ROTATING);
    expect(await metricsOf(rotating)).toMatch(/^encrypted_values\{key_id="0"\} 23$/m);
    await rotating.app.runBackgroundJobs();
    const after = await ciphertextsOf(rotating, legacy.userId);
    expect(after).toHaveLength(12);
    for (const value of [...after, ...(await ciphertextsOf(rotating, enrolled.userId))])
      expect(value).toMatch(/^v2\.k1\./);
    const metrics = await metricsOf(rotating);
    expect(metrics).toMatch(/^encrypted_values\{key_id="0"\} 0$/m);
    expect(metrics).toMatch(/^encrypted_values\{key_id="k1"\} 23$/m);
    expect(metrics).toMatch(/^encrypted_values_unbound\{key_id="k1"\} 0$/m);
    // Each opens to what it was, for its own row only.
    const box = new SecretBox([{ id: 'k1', key: NEW }]);
    const [totp] = await rotating.sql('SELECT secret_ciphertext AS c FROM totp_factors WHERE user_id = ?', [
      legacy.userId,
    ]);
    expect(box.open(String(totp.c), totpSecretBinding(legacy.userId))).toBe(legacy.secret);
    const [phone] = await rotating.sql(
      'SELECT phone_ciphertext AS c, phone_hash AS h FROM sms_factors WHERE user_id = ?',
      [legacy.userId],
    );
    expect(box.open(String(phone.c), smsPhoneBinding(legacy.userId))).toBe(legacy.phone);
    // Its keyed hash too: under a leaked old key, a hash would let its holder try every number against it.
    expect(phone.h).toBe(box.hash(legacy.phone));
    const codes = await rotating.sql(
      'SELECT position, code_ciphertext AS c, code_hash AS h FROM recovery_codes WHERE user_id = ?',
      [legacy.userId],
    );
    for (const code of codes) {
      expect(box.open(String(code.c), recoveryCodeBinding(legacy.userId, code.position))).toBe(
        legacy.codes[code.position],
      );
      expect(code.h).toBe(box.hash(legacy.codes[code.position]));
    }
    expect(() => box.open(String(totp.c), totpSecretBinding(enrolled.userId))).toThrow();
    await stop(rotating);

    // The old key removed: the start is not refused, and every factor still answers.
    const rotated = await start(ROTATED);
    const loginService = await rotated.token('login-service', ['twofactor:login']);
    nextStep(rotated);
    for (const [userId, code] of [
      [legacy.userId, currentTotp(rotated, legacy.secret)],
      [enrolled.userId, currentTotp(rotated, enrolled.secret)],
      [legacy.userId, legacy.codes[3]],
    ]) {
      const challenge = await startLogin(rotated, loginService, userId);
      const result = await rotated.gql(VERIFY, { id: challenge.id, c: code });
      expect(result.errors).toBeUndefined();
    }
  });

  it('refuses to start without a key some stored value needs, naming its id', async () => {
    const before = await start({});
    await enrollTotp(before, uniqueId('enrolled'));
    await stop(before);
    await expect(start(ROTATED)).rejects.toThrow(/need key 0, which is not given \(given: k1\)/);
  });

  it('names the key of values from before key ids by its fingerprint', async () => {
    const before = await start({});
    await seedLegacyUser(before);
    await stop(before);
    await expect(start(ROTATED)).rejects.toThrow(/need the key whose SHA-256 begins [0-9a-f]{8}/);
  });

  it('refuses to start when the key given an id is not the one its values were made with (ENCRYPTION_KEY replaced in place)', async () => {
    const before = await start({});
    await enrollTotp(before, uniqueId('enrolled'));
    await stop(before);
    await expect(start({ ENCRYPTION_KEY: NEW.toString('base64') })).rejects.toThrow(
      /stored under key id 0 \(totp_factors\.secret_ciphertext.*\) do not open with the key now given that id/,
    );
  });

  it('leaves a row changed between its read and its write as the change left it (compare and set)', async () => {
    const before = await start({});
    for (let index = 0; index < 6; index += 1) await enrollTotp(before, uniqueId('cas'));
    await stop(before);
    const rotating = await start(ROTATING);
    const box = new SecretBox([
      { id: 'k1', key: NEW },
      { id: '0', key: OLD },
    ]);
    let changed: { userId: string; replacement: string } | undefined;
    const rotation = new KeyRotation(
      box,
      CIPHERTEXTS.map((declaration) => new StoredCiphertexts(declaration, rotating.app.database)),
    );
    const totals = await rotation.run({
      batchSize: 4,
      beforeWrite: async ({ column, rows }) => {
        // While the first batch of TOTP secrets is read and not yet written, one of its users replaces the authenticator.
        if (changed || !column.startsWith('totp_factors.')) return;
        const userId = String(rows[rows.length - 1].userId);
        changed = { userId, replacement: box.seal(base32Encode(randomBytes(20)), totpSecretBinding(userId)) };
        await rotating.sql('UPDATE totp_factors SET secret_ciphertext = ? WHERE user_id = ?', [
          changed.replacement,
          userId,
        ]);
      },
    });
    expect(changed).toBeDefined();
    const [row] = await rotating.sql('SELECT secret_ciphertext AS c FROM totp_factors WHERE user_id = ?', [
      changed!.userId,
    ]);
    expect(row.c).toBe(changed!.replacement);
    expect(totals.changedMeanwhile).toBe(1);
    const left = await rotating.sql(
      "SELECT COUNT(*) AS n FROM totp_factors WHERE secret_ciphertext NOT LIKE 'v2.k1.%'",
    );
    expect(Number(left[0].n)).toBe(0);
  });

  it('waits while a running instance encrypts with another key, and runs once it is gone', async () => {
    const before = await start({});
    const user = await enrollTotp(before, uniqueId('waits'));
    const rotating = await start(ROTATING);
    await rotating.app.runBackgroundJobs();
    expect((await ciphertextsOf(rotating, user.userId))[0]).toMatch(/^v2\.0\./);
    expect(rotating.logs.join('\n')).toContain('key rotation waits');
    await stop(before);
    await rotating.app.runBackgroundJobs();
    expect((await ciphertextsOf(rotating, user.userId))[0]).toMatch(/^v2\.k1\./);
  });

  it('re-encrypts on one instance at a time: another holding the lock skips its turn', async () => {
    const before = await start({});
    const user = await enrollTotp(before, uniqueId('lock'));
    await stop(before);
    const rotating = await start(ROTATING);
    const holder = await createConnection({ uri: database.url });
    try {
      await holder.query("SELECT GET_LOCK(CONCAT('twofactor_key_rotation_', MD5(DATABASE())), 0)");
      await rotating.app.runBackgroundJobs();
      expect((await ciphertextsOf(rotating, user.userId))[0]).toMatch(/^v2\.0\./);
      await holder.query("SELECT RELEASE_LOCK(CONCAT('twofactor_key_rotation_', MD5(DATABASE())))");
      await rotating.app.runBackgroundJobs();
      expect((await ciphertextsOf(rotating, user.userId))[0]).toMatch(/^v2\.k1\./);
    } finally {
      await holder.end();
    }
  });

  it('rewrites pending setups, and a setup started before still confirms after', async () => {
    const before = await start({});
    const userId = uniqueId('pending');
    const token = await before.token(userId, [], { authTime: before.clock.now() });
    const started = await before.gql('mutation { startTotpSetup { secret } }', {}, token);
    await stop(before);
    const rotating = await start(ROTATING);
    await rotating.app.runBackgroundJobs();
    const [row] = await rotating.sql(
      'SELECT payload_ciphertext AS c, lookup_hash AS h FROM pending_setups WHERE user_id = ?',
      [userId],
    );
    expect(new SecretBox([{ id: 'k1', key: NEW }]).open(String(row.c), pendingSetupBinding(userId, 'TOTP'))).toBe(
      started.data.startTotpSetup.secret,
    );
    // A TOTP setup has no phone hash, and is given none.
    expect(row.h).toBeNull();
    const confirmed = await rotating.gql(
      'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }',
      { c: currentTotp(rotating, started.data.startTotpSetup.secret) },
      await rotating.token(userId, [], { authTime: rotating.clock.now() }),
    );
    expect(errorCode(confirmed)).toBeUndefined();
  });
});
