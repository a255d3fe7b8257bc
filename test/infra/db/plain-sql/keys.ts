import type { EntityManager } from 'typeorm';
import { PendingSetupRecord } from '../../../../src/factors/pending-setup.entity';
import { type CiphertextLabel, labelOf } from '../../../../src/infra/crypto/cipher';
import { type LabelledValue, type Rewrite, StoredCiphertexts } from '../../../../src/keys/stored-ciphertexts';
import { CIPHERTEXTS } from '../../../../src/modules';
import { type EnrolledMethod, TwoFactorMethod } from '../../../../src/users/two-factor-method';
import { filled, type PlainSqlCase, type TestDatabase, writesAlike } from './harness';

/**
 * The stored ciphertexts' statements are the same for every declared column
 * (names from its entity): held here on pending setups, whose rows are found
 * by two columns (user and method) and whose keyed hash may be NULL.
 */
const declaration = () => {
  const found = CIPHERTEXTS.find((one) => one.entity === PendingSetupRecord);
  if (!found) throw new Error('pending_setups.payload_ciphertext is no longer a declared ciphertext column');
  return found;
};
const stored = (db: TestDatabase) => new StoredCiphertexts(declaration(), db.database);

const setup = (userId: string, method: EnrolledMethod, payloadCiphertext: string, lookupHash: string | null) =>
  Object.assign(
    filled(PendingSetupRecord, {
      userId,
      method,
      payloadCiphertext,
      lookupHash: 'set',
      display: '+44 ••• ••• 12 ✓',
      smsLocale: 'en-GB',
      expiresAt: new Date('2026-12-01T12:10:00.000Z'),
      createdAt: new Date('2026-12-01T12:00:00.000Z'),
    }),
    { lookupHash },
  );

/**
 * Values under several labels: k1 (two, and k10 after it, which its range must
 * not hold), k2, a v1 fingerprint, a malformed v2 value, a value of no version
 * of ours, one that differs from k1's only in case, and k1's range's upper bound.
 */
async function putSetups(manager: EntityManager): Promise<void> {
  await manager.clear(PendingSetupRecord);
  await manager.insert(PendingSetupRecord, [
    setup('keys-u1', TwoFactorMethod.TOTP, 'v2.k1.aaa', null),
    setup('keys-u1', TwoFactorMethod.SMS, 'v2.k1.bbb', 'hash-b'),
    setup('keys-u2', TwoFactorMethod.TOTP, 'v2.k2.ccc', null),
    setup('keys-u2', TwoFactorMethod.SMS, 'v1.0a1b2c3d.ddd', 'hash-d'),
    setup('keys-u3', TwoFactorMethod.TOTP, 'v2.k1', null),
    setup('keys-u3', TwoFactorMethod.SMS, 'v2.k10.eee', 'hash-e'),
    setup('keys-u4', TwoFactorMethod.TOTP, 'v3.k1.fff', null),
    setup('keys-u4', TwoFactorMethod.SMS, 'V2.k1.ggg', 'hash-g'),
    setup('keys-u5', TwoFactorMethod.TOTP, 'v2.k1.hhh', null),
    // Just past k1's range: its upper bound itself.
    setup('keys-u5', TwoFactorMethod.SMS, 'v2.k1/', 'hash-i'),
  ]);
}

/** Every value TypeORM reads, in the column's (binary) order, with what a stored value is read with. */
async function valuesByTypeorm(manager: EntityManager) {
  const rows = await manager.find(PendingSetupRecord);
  return rows
    .map(({ userId, method, lookupHash, payloadCiphertext }) => ({
      row: { userId, method, lookupHash },
      value: payloadCiphertext,
    }))
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

const LABELS: CiphertextLabel[] = [
  { version: 'v2', keyId: 'k1' },
  { version: 'v2', keyId: 'k2' },
  { version: 'v2', keyId: 'k10' },
  { version: 'v1', keyId: '0a1b2c3d' },
  { version: 'v2', keyId: 'gone' },
];
const prefixOf = (label: CiphertextLabel) => `${label.version}.${label.keyId}.`;

export const KEY_CASES: PlainSqlCase[] = [
  {
    name: 'the stored labels, each with its first value, and the count and batches of a label are what TypeORM reads of the column',
    holds: ['StoredCiphertexts.select', 'StoredCiphertexts.count'],
    async run(db) {
      const ciphertexts = stored(db);
      await putSetups(db.manager);
      const values = await valuesByTypeorm(db.manager);
      // The labels: the first value of each label of v1 and v2, and each malformed value of those versions.
      const labelled: LabelledValue[] = [];
      for (const one of values.filter(({ value }) => value.startsWith('v1.') || value.startsWith('v2.'))) {
        const label = labelOf(one.value);
        const seen = labelled.some(
          (earlier) => label && earlier.label?.version === label.version && earlier.label.keyId === label.keyId,
        );
        if (!seen) labelled.push({ ...one, label });
      }
      const labels = await ciphertexts.labels();
      expect([...labels].sort((a, b) => (a.value < b.value ? -1 : 1))).toEqual(labelled);
      expect(labels.map((one) => one.value).sort()).toEqual([
        'v1.0a1b2c3d.ddd',
        'v2.k1',
        'v2.k1.aaa',
        'v2.k1/',
        'v2.k10.eee',
        'v2.k2.ccc',
      ]);
      for (const label of LABELS) {
        const ofLabel = values.filter(({ value }) => value.startsWith(prefixOf(label)));
        expect(await ciphertexts.count(label)).toBe(ofLabel.length);
        for (const after of [null, ...ofLabel.map(({ value }) => value)])
          for (const limit of [1, 2, 10])
            expect(await ciphertexts.batch(label, after, limit)).toEqual(
              ofLabel.filter(({ value }) => after === null || value > after).slice(0, limit),
            );
      }
      expect(await ciphertexts.count({ version: 'v2', keyId: 'k1' })).toBe(3);
    },
  },
  {
    name: "rewritten ciphertexts and their hashes are written where the row still holds the value read, as TypeORM's updates write them",
    holds: ['StoredCiphertexts.write'],
    async run(db) {
      const key = (userId: string, method: EnrolledMethod) => ({ userId, method });
      const rewrites: Rewrite[] = [
        // A NULL hash stays NULL; the same user's other method is another row.
        { row: key('keys-u1', TwoFactorMethod.TOTP), from: 'v2.k1.aaa', to: 'v2.k2.AAA', hashes: { lookupHash: null } },
        {
          row: key('keys-u1', TwoFactorMethod.SMS),
          from: 'v2.k1.bbb',
          to: 'v2.k2.BBB',
          hashes: { lookupHash: 'hash-b2' },
        },
        // Changed since it was read: kept as it is now.
        {
          row: key('keys-u2', TwoFactorMethod.SMS),
          from: 'v1.0a1b2c3d.old',
          to: 'v2.k2.DDD',
          hashes: { lookupHash: 'hash-d2' },
        },
        // Gone since.
        { row: key('keys-u9', TwoFactorMethod.TOTP), from: 'v2.k1.zzz', to: 'v2.k2.ZZZ', hashes: { lookupHash: null } },
      ];
      const { plain, typeorm } = await writesAlike(db, {
        seed: putSetups,
        // It opens its own transaction.
        transaction: false,
        plain: () => stored(db).write(rewrites),
        typeorm: () =>
          db.database.transaction(async (tx) => {
            let written = 0;
            for (const { row, from, to, hashes } of rewrites) {
              const result = await tx.update(
                PendingSetupRecord,
                { userId: row.userId as string, method: row.method as EnrolledMethod, payloadCiphertext: from },
                { payloadCiphertext: to, lookupHash: hashes.lookupHash },
              );
              written += result.affected ?? 0;
            }
            return written;
          }),
        rows: (manager) => manager.find(PendingSetupRecord, { order: { userId: 'ASC', method: 'ASC' } }),
      });
      expect(plain).toBe(typeorm);
      expect(plain).toBe(2);
      expect(await stored(db).write([])).toBe(0);
    },
  },
];
