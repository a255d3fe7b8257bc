import { type EntityManager, In, IsNull } from 'typeorm';
import { RecoveryCodeRecord } from '../../../../src/factors/recovery-codes/recovery-code.entity';
import { RecoveryCodeRepository } from '../../../../src/factors/recovery-codes/recovery-code.repository';
import { SmsFactorRecord } from '../../../../src/factors/sms/sms-factor.entity';
import { SmsFactorRepository } from '../../../../src/factors/sms/sms-factor.repository';
import { TotpFactorRecord } from '../../../../src/factors/totp/totp-factor.entity';
import { TotpFactorRepository } from '../../../../src/factors/totp/totp-factor.repository';
import { WebAuthnCredentialRecord } from '../../../../src/factors/webauthn/webauthn-credential.entity';
import { WebAuthnCredentialRepository } from '../../../../src/factors/webauthn/webauthn-credential.repository';
import type { Statement } from '../../../../src/infra/db/database';
import type { PlainSqlCase, TestDatabase } from './harness';
import { writesAlike } from './harness';
import { putFactors } from './users';

const USED_AT = new Date('2026-12-01T10:20:30.456Z');

/** The factor rows of these users, replaced by putFactors' (every column set). */
async function putFactorsOf(manager: EntityManager, userIds: string[]): Promise<void> {
  for (const entity of [TotpFactorRecord, SmsFactorRecord, WebAuthnCredentialRecord, RecoveryCodeRecord]) {
    await manager.delete(entity, { userId: In(userIds) });
  }
  for (const userId of userIds) await putFactors(manager, userId);
}

/** A read the answer path sends with the user's row lock: its rows, read in a transaction as the service reads them. */
async function answerPathRead(database: TestDatabase['database'], statement: Statement) {
  const [rows] = await database.transaction((tx) => database.read(tx, [statement]));
  return rows;
}

export const FACTOR_CASES: PlainSqlCase[] = [
  {
    name: 'the answer path reads the TOTP secret TypeORM reads, and none without an authenticator',
    holds: ['TotpFactorRepository.secretRead'],
    async run({ database, manager }) {
      const totp = new TotpFactorRepository(database);
      await putFactorsOf(manager, ['totp-read']);
      await manager.delete(TotpFactorRecord, { userId: 'totp-none' });
      for (const userId of ['totp-read', 'totp-none']) {
        const expected = (await manager.findOneBy(TotpFactorRecord, { userId }))?.secretCiphertext ?? null;
        expect(totp.secretOf(await answerPathRead(database, totp.secretRead(userId)))).toBe(expected);
      }
      expect(totp.secretOf(await answerPathRead(database, totp.secretRead('totp-read')))).toBe(
        'v1.totp-secret-totp-read',
      );
    },
  },
  {
    name: "TotpFactorRepository.recordUse keeps the last use as TypeORM's update does",
    holds: ['TotpFactorRepository.recordUse'],
    run: (db) =>
      writesAlike(db, {
        seed: (manager) => putFactorsOf(manager, ['totp-use', 'totp-use-other']),
        plain: (tx) => new TotpFactorRepository(db.database).recordUse(tx, 'totp-use', USED_AT),
        typeorm: (tx) => tx.update(TotpFactorRecord, { userId: 'totp-use' }, { lastUsedAt: USED_AT }),
        rows: (manager) => manager.find(TotpFactorRecord, { where: { userId: In(['totp-use', 'totp-use-other']) } }),
      }),
  },
  {
    name: "the answer path reads the phone number's keyed hash TypeORM reads, and none without a number",
    holds: ['SmsFactorRepository.phoneHashRead'],
    async run({ database, manager }) {
      const sms = new SmsFactorRepository(database);
      await putFactorsOf(manager, ['sms-read']);
      await manager.delete(SmsFactorRecord, { userId: 'sms-none' });
      for (const userId of ['sms-read', 'sms-none']) {
        const expected = (await manager.findOneBy(SmsFactorRecord, { userId }))?.phoneHash ?? null;
        expect(sms.phoneHashOf(await answerPathRead(database, sms.phoneHashRead(userId)))).toBe(expected);
      }
      expect(sms.phoneHashOf(await answerPathRead(database, sms.phoneHashRead('sms-read')))).toMatch(
        /^phone-hash-sms-read/,
      );
    },
  },
  {
    name: "SmsFactorRepository.recordUse keeps the last use as TypeORM's update does",
    holds: ['SmsFactorRepository.recordUse'],
    run: (db) =>
      writesAlike(db, {
        seed: (manager) => putFactorsOf(manager, ['sms-use', 'sms-use-other']),
        plain: (tx) => new SmsFactorRepository(db.database).recordUse(tx, 'sms-use', USED_AT),
        typeorm: (tx) => tx.update(SmsFactorRecord, { userId: 'sms-use' }, { lastUsedAt: USED_AT }),
        rows: (manager) => manager.find(SmsFactorRecord, { where: { userId: In(['sms-use', 'sms-use-other']) } }),
      }),
  },
  {
    name: "the answer path finds the user's unused recovery code as TypeORM finds it: never a used one, never another user's",
    holds: ['RecoveryCodeRepository.unusedRead'],
    async run({ database, manager }) {
      const codes = new RecoveryCodeRepository(database);
      await putFactorsOf(manager, ['codes-read', 'codes-other']);
      const hash = async (userId: string, position: number) =>
        (await manager.findOneByOrFail(RecoveryCodeRecord, { userId, position })).codeHash;
      const [used, unused, others] = [
        await hash('codes-read', 1),
        await hash('codes-read', 2),
        await hash('codes-other', 2),
      ];
      const asked = [[used, unused, 'no-such-hash'], [used], [others], ['no-such-hash']];
      for (const hashes of asked) {
        const typeorm = await manager.findOne(RecoveryCodeRecord, {
          where: { userId: 'codes-read', codeHash: In(hashes), usedAt: IsNull() },
        });
        const plain = codes.unusedOf(await answerPathRead(database, codes.unusedRead('codes-read', hashes)));
        expect(plain).toBe(typeorm?.id ?? null);
      }
      const found = codes.unusedOf(await answerPathRead(database, codes.unusedRead('codes-read', [used, unused])));
      expect(found).toEqual(expect.any(Number));
    },
  },
  {
    name: "RecoveryCodeRepository.markUsed spends the code as TypeORM's update does",
    holds: ['RecoveryCodeRepository.markUsed'],
    run: async (db) => {
      const rows = (manager: EntityManager) =>
        manager.find(RecoveryCodeRecord, { where: { userId: 'codes-use' }, order: { position: 'ASC' } });
      // The seeded ids change with each seed: the code is found by position.
      const idOf = async (manager: EntityManager) =>
        (await manager.findOneByOrFail(RecoveryCodeRecord, { userId: 'codes-use', position: 2 })).id;
      return writesAlike(db, {
        seed: (manager) => putFactorsOf(manager, ['codes-use']),
        plain: async (tx) => new RecoveryCodeRepository(db.database).markUsed(tx, await idOf(db.manager), USED_AT),
        typeorm: async (tx) => tx.update(RecoveryCodeRecord, { id: await idOf(db.manager) }, { usedAt: USED_AT }),
        rows: async (manager) => (await rows(manager)).map(({ id: _id, ...row }) => row),
      });
    },
  },
  {
    name: 'the answer path reads the credential an assertion names as TypeORM reads it, and none of another user',
    holds: ['WebAuthnCredentialRepository.credentialRead'],
    async run({ database, manager }) {
      const credentials = new WebAuthnCredentialRepository(database);
      await putFactorsOf(manager, ['keys-read', 'keys-other']);
      const asked = [
        ['keys-read', 'credential-keys-read-1'],
        ['keys-read', 'credential-keys-other-1'],
        ['keys-read', 'no-such-credential'],
      ] as const;
      for (const [userId, id] of asked) {
        const expected = await manager.findOneBy(WebAuthnCredentialRecord, { userId, id });
        const plain = credentials.credentialOf(await answerPathRead(database, credentials.credentialRead(userId, id)));
        expect(plain).toEqual(expected);
      }
      const read = credentials.credentialOf(
        await answerPathRead(database, credentials.credentialRead('keys-read', 'credential-keys-read-2')),
      );
      // A counter past 2^31, a number as the entity declares it (its transformer), as TypeORM gives it.
      expect(read?.signCount).toBe(3_000_000_002);
    },
  },
  {
    name: "WebAuthnCredentialRepository.recordUse keeps the counter and the last use as TypeORM's update does",
    holds: ['WebAuthnCredentialRepository.recordUse'],
    run: (db) =>
      writesAlike(db, {
        seed: (manager) => putFactorsOf(manager, ['keys-use']),
        plain: (tx) =>
          new WebAuthnCredentialRepository(db.database).recordUse(tx, 'credential-keys-use-1', 4_000_000_000, USED_AT),
        typeorm: (tx) =>
          tx.update(
            WebAuthnCredentialRecord,
            { id: 'credential-keys-use-1' },
            { signCount: 4_000_000_000, lastUsedAt: USED_AT },
          ),
        rows: (manager) =>
          manager.find(WebAuthnCredentialRecord, { where: { userId: 'keys-use' }, order: { id: 'ASC' } }),
      }),
  },
];
