import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../../src/infra/crypto/cipher';

describe('SecretBox', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('encrypts so that the ciphertext does not show the secret, and decrypts', () => {
    const box = new SecretBox(newKey);
    const sealed = box.encrypt('JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.encrypt('JBSWY3DPEHPK3PXP')).not.toBe(sealed);
    expect(box.decrypt(sealed)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('still decrypts with a retired key after rotation, and finds old hashes', () => {
    const before = new SecretBox(oldKey);
    const sealed = before.encrypt('+15551234567');
    const storedHash = before.hash('+15551234567');
    const after = new SecretBox(newKey, [oldKey]);
    expect(after.decrypt(sealed)).toBe('+15551234567');
    expect(after.lookupHashes('+15551234567')).toContain(storedHash);
    expect(after.hash('+15551234567')).not.toBe(storedHash);
  });

  it('refuses a tampered ciphertext', () => {
    const box = new SecretBox(newKey);
    const parts = box.encrypt('secret').split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.decrypt(parts.join('.'))).toThrow();
  });
});
