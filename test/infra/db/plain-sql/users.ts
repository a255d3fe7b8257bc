import { type EntityManager, In, IsNull } from 'typeorm';
import { RecoveryCodeRecord } from '../../../../src/factors/recovery-codes/recovery-code.entity';
import { RECOVERY_CODES_STATUS } from '../../../../src/factors/recovery-codes/recovery-code.repository';
import { SmsFactorRecord } from '../../../../src/factors/sms/sms-factor.entity';
import { SMS_STATUS } from '../../../../src/factors/sms/sms-factor.repository';
import { TotpFactorRecord } from '../../../../src/factors/totp/totp-factor.entity';
import { TOTP_STATUS } from '../../../../src/factors/totp/totp-factor.repository';
import { WebAuthnCredentialRecord } from '../../../../src/factors/webauthn/webauthn-credential.entity';
import { WEBAUTHN_STATUS } from '../../../../src/factors/webauthn/webauthn-credential.repository';
import { LIMITS } from '../../../../src/limits';
import { TwoFactorMethod } from '../../../../src/users/two-factor-method';
import { TwoFactorStatusReader } from '../../../../src/users/two-factor-status.reader';
import { UserRecord } from '../../../../src/users/user.entity';
import { type LockedUser, UserRepository } from '../../../../src/users/user.repository';
import type { TwoFactorStatus } from '../../../../src/users/user.types';
import { filled, type PlainSqlCase, type TestDatabase, writesAlike } from './harness';

/** Every column set to something other than its default; then `changes` (a state a case needs). */
export const user = (id: string, changes: Partial<UserRecord> = {}): UserRecord =>
  Object.assign(
    filled(UserRecord, {
      id,
      twoFactorEnabled: true,
      phishingResistant: true,
      keySetId: 7,
      enabledAt: new Date('2026-11-02T10:00:00.321Z'),
      failedAttemptsInRow: 3,
      lastTotpStep: 59_000_000,
      failuresInWindow: 4,
      failureWindowStartedAt: new Date('2026-11-02T11:00:00.111Z'),
      recoveryCodesGeneratedAt: new Date('2026-11-03T10:00:00.654Z'),
      createdAt: new Date('2026-11-01T09:00:00.987Z'),
    }),
    changes,
  );

/** Replaces the user's row with this one. */
export async function putUser(manager: EntityManager, row: UserRecord): Promise<void> {
  await manager.delete(UserRecord, { id: row.id });
  await manager.insert(UserRecord, row);
}

const userRow = (id: string) => (manager: EntityManager) => manager.findOneBy(UserRecord, { id });

/** What the answer path reads of the user's row, as TypeORM reads it (LockedUser). */
async function lockedUserByTypeorm(manager: EntityManager, id: string): Promise<LockedUser | null> {
  const row = await manager.findOneBy(UserRecord, { id });
  if (!row) return null;
  const { twoFactorEnabled, failedAttemptsInRow, lastTotpStep, failuresInWindow, failureWindowStartedAt } = row;
  return { id, twoFactorEnabled, failedAttemptsInRow, lastTotpStep, failuresInWindow, failureWindowStartedAt };
}

/** A user's two-factor status built from TypeORM's entity reads: what the one status read must give. */
async function statusByTypeorm(manager: EntityManager, userId: string): Promise<TwoFactorStatus> {
  const row = await manager.findOneBy(UserRecord, { id: userId });
  const enabled = row?.twoFactorEnabled ?? false;
  const totp = row && (await manager.findOneBy(TotpFactorRecord, { userId }));
  const sms = row && (await manager.findOneBy(SmsFactorRecord, { userId }));
  const keys = row ? await manager.countBy(WebAuthnCredentialRecord, { userId }) : 0;
  const unusedCodes = await manager.countBy(RecoveryCodeRecord, { userId, usedAt: IsNull() });
  return {
    userId,
    enabled,
    locked: (row?.failedAttemptsInRow ?? 0) >= LIMITS.failuresInRowToLock,
    methods: [
      ...(totp ? [TwoFactorMethod.TOTP] : []),
      ...(sms ? [TwoFactorMethod.SMS] : []),
      ...(keys > 0 ? [TwoFactorMethod.WEBAUTHN] : []),
    ],
    totp: totp ? { createdAt: totp.createdAt, lastUsedAt: totp.lastUsedAt } : null,
    sms: sms ? { phoneNumberMasked: sms.phoneMasked, createdAt: sms.createdAt, lastUsedAt: sms.lastUsedAt } : null,
    recoveryCodesRemaining: enabled ? unusedCodes : 0,
    enabledAt: enabled ? row!.enabledAt : null,
  };
}

/** Every factor's rows for `userId`, every column set (unique values made of the user id). */
export async function putFactors(manager: EntityManager, userId: string): Promise<void> {
  await manager.insert(
    TotpFactorRecord,
    filled(TotpFactorRecord, {
      userId,
      secretCiphertext: `v1.totp-secret-${userId}`,
      createdAt: new Date('2026-11-04T10:00:00.100Z'),
      lastUsedAt: new Date('2026-11-05T10:00:00.200Z'),
    }),
  );
  await manager.insert(
    SmsFactorRecord,
    filled(SmsFactorRecord, {
      userId,
      phoneCiphertext: `v1.phone-${userId}`,
      phoneHash: `phone-hash-${userId}`.padEnd(64, '0'),
      phoneMasked: '+1 ••• ••• 2671',
      smsLocale: 'fr-CA',
      createdAt: new Date('2026-11-06T10:00:00.300Z'),
      lastUsedAt: new Date('2026-11-07T10:00:00.400Z'),
    }),
  );
  await manager.insert(
    WebAuthnCredentialRecord,
    [1, 2].map((key) =>
      filled(WebAuthnCredentialRecord, {
        id: `credential-${userId}-${key}`,
        userId,
        publicKey: `public-key-${userId}-${key}`,
        signCount: 3_000_000_000 + key,
        transports: 'usb,nfc',
        backupEligible: true,
        backedUp: true,
        aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
        attested: true,
        deviceBound: true,
        name: `Key ${key} ✓`,
        createdAt: new Date(`2026-11-08T10:00:0${key}.500Z`),
        lastUsedAt: new Date(`2026-11-09T10:00:0${key}.600Z`),
      }),
    ),
  );
  await manager.insert(
    RecoveryCodeRecord,
    [1, 2, 3].map((position) =>
      filled(RecoveryCodeRecord, {
        userId,
        codeHash: `code-hash-${userId}-${position}`.padEnd(64, '0'),
        codeCiphertext: `v1.code-${userId}-${position}`,
        position,
        usedAt: new Date('2026-11-10T10:00:00.700Z'),
        createdAt: new Date('2026-11-03T10:00:00.654Z'),
      }),
    ),
  );
  // Every column was set above; then the first is the one used, two remain.
  await manager.update(RecoveryCodeRecord, { userId, position: In([2, 3]) }, { usedAt: null });
}

async function removeFactors(manager: EntityManager, userIds: string[]): Promise<void> {
  for (const entity of [TotpFactorRecord, SmsFactorRecord, WebAuthnCredentialRecord, RecoveryCodeRecord]) {
    await manager.delete(entity, { userId: In(userIds) });
  }
}

const STATUS_PARTS = [TOTP_STATUS, SMS_STATUS, WEBAUTHN_STATUS, RECOVERY_CODES_STATUS];

export const USER_CASES: PlainSqlCase[] = [
  {
    name: 'UserRepository.lock reads the whole row TypeORM reads, and a missing one as TypeORM inserts it',
    holds: ['UserRepository.lock'],
    async run({ database, manager }: TestDatabase) {
      const users = new UserRepository(database);
      await putUser(manager, user('lock-existing'));
      const locked = await database.transaction((tx) => users.lock(tx, 'lock-existing', new Date()));
      expect(locked).toEqual(await manager.findOneByOrFail(UserRecord, { id: 'lock-existing' }));

      await manager.delete(UserRecord, { id: 'lock-missing' });
      const created = await database.transaction((tx) =>
        users.lock(tx, 'lock-missing', new Date('2026-12-01T10:00:00.123Z')),
      );
      expect(created).toEqual(await manager.findOneByOrFail(UserRecord, { id: 'lock-missing' }));
      expect(created.createdAt).toEqual(new Date('2026-12-01T10:00:00.123Z'));
    },
  },
  {
    name: 'the answer path reads what decides an answer of the user row as TypeORM reads it, locked or not',
    holds: ['UserRepository.lockedUserRead', 'UserRepository.answerState'],
    async run({ database, manager }: TestDatabase) {
      const users = new UserRepository(database);
      await putUser(manager, user('answer-state'));
      await manager.delete(UserRecord, { id: 'answer-state-none' });
      for (const id of ['answer-state', 'answer-state-none']) {
        const expected = await lockedUserByTypeorm(manager, id);
        const [locked, unlocked] = await database.transaction((tx) =>
          database.read(tx, [users.lockedUserRead(id), users.lockedUserRead(id, { lock: false })]),
        );
        expect(users.lockedUserOf(locked)).toEqual(expected);
        expect(users.lockedUserOf(unlocked)).toEqual(expected);
        expect(await database.run((reader) => users.answerState(reader, id))).toEqual(expected);
      }
      expect(await lockedUserByTypeorm(manager, 'answer-state')).not.toBeNull();
    },
  },
  {
    name: "UserRepository.endFailuresInRow ends the row of failures as TypeORM's update does",
    holds: ['UserRepository.endFailuresInRow'],
    run: (db) =>
      writesAlike(db, {
        seed: (manager) => putUser(manager, user('end-failures')),
        plain: (tx) => new UserRepository(db.database).endFailuresInRow(tx, 'end-failures'),
        typeorm: (tx) => tx.update(UserRecord, { id: 'end-failures' }, { failedAttemptsInRow: 0 }),
        rows: userRow('end-failures'),
      }),
  },
  {
    name: "UserRepository.recordFailure counts one more failure in a row and the window as TypeORM's increment and update do",
    holds: ['UserRepository.recordFailure'],
    run: (db) => {
      const window = { failuresInWindow: 7, failureWindowStartedAt: new Date('2026-12-01T10:11:12.345Z') };
      return writesAlike(db, {
        seed: (manager) => putUser(manager, user('record-failure')),
        plain: (tx) => new UserRepository(db.database).recordFailure(tx, 'record-failure', window),
        typeorm: async (tx) => {
          await tx.increment(UserRecord, { id: 'record-failure' }, 'failedAttemptsInRow', 1);
          await tx.update(UserRecord, { id: 'record-failure' }, window);
        },
        rows: userRow('record-failure'),
      });
    },
  },
  {
    name: "UserRepository.recordTotpStep keeps the step as TypeORM's update does",
    holds: ['UserRepository.recordTotpStep'],
    run: (db) =>
      writesAlike(db, {
        seed: (manager) => putUser(manager, user('totp-step')),
        plain: (tx) => new UserRepository(db.database).recordTotpStep(tx, 'totp-step', 59_000_123),
        typeorm: (tx) => tx.update(UserRecord, { id: 'totp-step' }, { lastTotpStep: 59_000_123 }),
        rows: userRow('totp-step'),
      }),
  },
  {
    name: "the one status read, with every factor's part, gives the status TypeORM's entity reads give",
    holds: [
      'UserRepository.statusRead',
      'TwoFactorStatusReader.readWith',
      'TOTP_STATUS',
      'SMS_STATUS',
      'WEBAUTHN_STATUS',
      'RECOVERY_CODES_STATUS',
    ],
    async run({ database, manager }: TestDatabase) {
      const users = new UserRepository(database);
      const reader = new TwoFactorStatusReader(database, users, { statusParts: () => STATUS_PARTS });
      // On, with every factor and locked; off with rows left; off with none; no row at all.
      const ids = ['status-all', 'status-off', 'status-bare', 'status-none'];
      await removeFactors(manager, ids);
      await putUser(manager, user('status-all', { failedAttemptsInRow: LIMITS.failuresInRowToLock }));
      await putFactors(manager, 'status-all');
      await putUser(manager, user('status-off', { twoFactorEnabled: false }));
      await putFactors(manager, 'status-off');
      await putUser(manager, user('status-bare', { twoFactorEnabled: false }));
      await manager.delete(UserRecord, { id: 'status-none' });

      const expected = await Promise.all(ids.map((id) => statusByTypeorm(manager, id)));
      expect(expected[0]).toMatchObject({ enabled: true, locked: true, recoveryCodesRemaining: 2 });
      expect(expected[0].methods).toEqual([TwoFactorMethod.TOTP, TwoFactorMethod.SMS, TwoFactorMethod.WEBAUTHN]);
      expect(await reader.read(ids)).toEqual(expected);
      // Inside a change's transaction, and as the login path reads it (one statement among others).
      expect(await database.transaction((tx) => reader.readIn(tx, 'status-all'))).toEqual(expected[0]);
      const [rows] = await database.transaction((tx) => database.read(tx, [reader.statement('status-all')]));
      expect(reader.statusOf('status-all', rows)).toEqual(expected[0]);
    },
  },
  {
    name: "the count of unused recovery codes a login answer shows is TypeORM's count",
    holds: ['TwoFactorStatusReader.recoveryCodesRemaining'],
    async run({ database, manager }: TestDatabase) {
      const reader = new TwoFactorStatusReader(database, new UserRepository(database), { statusParts: () => [] });
      await removeFactors(manager, ['remaining']);
      await putFactors(manager, 'remaining');
      const count = await manager.countBy(RecoveryCodeRecord, { userId: 'remaining', usedAt: IsNull() });
      expect(count).toBe(2);
      expect(await reader.recoveryCodesRemaining('remaining')).toBe(count);
    },
  },
];
