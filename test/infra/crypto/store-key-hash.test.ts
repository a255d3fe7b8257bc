import { createHash } from 'node:crypto';
import { SecretBox } from '../../../src/infra/crypto/cipher';
import { StoreKeyHash } from '../../../src/infra/crypto/store-key-hash';

describe('StoreKeyHash: names for store keys', () => {
  const key = Buffer.alloc(32, 3);
  const names = new StoreKeyHash(key);

  it('gives every instance with the same ENCRYPTION_KEY the same names (they share limits), and other keys others', () => {
    expect(new StoreKeyHash(Buffer.from(key)).of('sms-number', '+14155552671')).toBe(
      names.of('sms-number', '+14155552671'),
    );
    expect(new StoreKeyHash(Buffer.alloc(32, 4)).of('sms-number', '+14155552671')).not.toBe(
      names.of('sms-number', '+14155552671'),
    );
  });

  it('is neither a plain hash nor the lookup hash kept in the database, and differs between families', () => {
    const name = names.of('sms-number', '+14155552671');
    expect(name).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(createHash('sha256').update('+14155552671').digest('base64url')).not.toContain(name);
    expect(new SecretBox(key).hash('+14155552671')).not.toContain(name);
    expect(names.of('sms-user', '+14155552671')).not.toBe(name);
  });

  it('keeps parts apart: (a:b, c) and (a, b:c) are different names', () => {
    expect(names.of('sms-resend', 'a:b', 'c')).not.toBe(names.of('sms-resend', 'a', 'b:c'));
  });
});
