import { randomBytes } from 'node:crypto';
import { totpSecretBinding, TotpFactorRecord } from '../../src/factors/totp/totp-factor.entity';
import { SecretBox } from '../../src/infra/crypto/cipher';
import { Database } from '../../src/infra/db/database';
import { KeyInventory } from '../../src/keys/key-inventory';
import { StoredCiphertexts } from '../../src/keys/stored-ciphertexts';
import { CIPHERTEXTS } from '../../src/modules';
import { sealedAsBefore } from '../support/legacy-ciphertexts';
import { withMariaDbDataSource } from '../support/test-app';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const ROWS = 3_000;

/**
 * The key ids in use are read from the index of each column of ciphertexts:
 * one lookup per key id (and one per version to find there is none left),
 * whatever the number of rows: a start stays cheap at a million users.
 */
describe('stored ciphertexts, read from their index', () => {
  it('finds the key ids in use in a few index lookups, and counts each from its index range', async () => {
    await withMariaDbDataSource(async (dataSource) => {
      const values = Array.from({ length: ROWS }, (_, index) => {
        const userId = `u${String(index).padStart(5, '0')}`;
        const secret = randomBytes(20).toString('hex');
        const value =
          index % 3 === 0
            ? sealedAsBefore(OLD, secret)
            : new SecretBox([{ id: index % 3 === 1 ? 'k1' : 'k2', key: index % 3 === 1 ? OLD : NEW }]).seal(
                secret,
                totpSecretBinding(userId),
              );
        return [userId, value, new Date()];
      });
      await dataSource.query(
        `INSERT INTO totp_factors (user_id, secret_ciphertext, created_at) VALUES ${values.map(() => '(?, ?, ?)').join(', ')}`,
        values.flat(),
      );
      // A value that is none of ours is no key id in use (it is refused when read).
      await dataSource.query(
        "INSERT INTO totp_factors (user_id, secret_ciphertext, created_at) VALUES ('x', 'junk', NOW())",
      );
      await dataSource.query('ANALYZE TABLE totp_factors');
      const database = new Database(dataSource);
      const totp = new StoredCiphertexts(
        CIPHERTEXTS.find((declaration) => declaration.entity === TotpFactorRecord)!,
        database,
      );

      const queries: string[] = [];
      const run = database.run.bind(database);
      database.run = (work) => {
        queries.push('read');
        return run(work);
      };
      const labels = await totp.labels();
      expect(labels.map((entry) => entry.label && `${entry.label.version}.${entry.label.keyId}`).sort()).toEqual(
        [`v1.${labels[0].label!.keyId}`, 'v2.k1', 'v2.k2'].sort(),
      );
      // 3 key ids, and one lookup per version that finds nothing more.
      expect(queries).toHaveLength(5);

      const secrets = new SecretBox([
        { id: 'k2', key: NEW },
        { id: 'k1', key: OLD },
      ]);
      const counts = await new KeyInventory(secrets, [totp]).counts();
      expect(counts).toEqual([
        { keyId: 'k2', values: ROWS / 3, unbound: 0 },
        // The v1 values were made with OLD: they count under its id.
        { keyId: 'k1', values: (2 * ROWS) / 3, unbound: ROWS / 3 },
      ]);

      // MariaDB reads both from the index: the skip from one key id to the next, and each count.
      const explain = async (sql: string) => (await dataSource.query(`EXPLAIN ${sql}`))[0];
      const skip = await explain(
        "SELECT user_id, secret_ciphertext FROM totp_factors WHERE secret_ciphertext >= 'v2.' AND secret_ciphertext < 'v2/' ORDER BY secret_ciphertext LIMIT 1",
      );
      expect(skip.key).toBe('idx_totp_factors_secret_ciphertext');
      const count = await explain(
        "SELECT COUNT(*) FROM totp_factors WHERE secret_ciphertext >= 'v2.k1.' AND secret_ciphertext < 'v2.k1/'",
      );
      expect(count).toMatchObject({
        key: 'idx_totp_factors_secret_ciphertext',
        Extra: expect.stringContaining('Using index'),
      });
    });
  });
});
