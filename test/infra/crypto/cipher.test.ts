import { createHash, randomBytes } from 'node:crypto';
import { CiphertextRefused, labelOf, SecretBox, type SecretBinding } from '../../../src/infra/crypto/cipher';
import { sealedAsBefore } from '../../support/legacy-ciphertexts';

const alice: SecretBinding = { purpose: 'totp-secret', row: 'alice', userId: 'alice' };
const mallory: SecretBinding = { purpose: 'totp-secret', row: 'mallory', userId: 'mallory' };

function refusalOf(open: () => unknown): CiphertextRefused {
  try {
    open();
  } catch (error) {
    if (error instanceof CiphertextRefused) return error;
    throw error;
  }
  throw new Error('it opened');
}

describe('SecretBox', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('seals so that the ciphertext does not show the secret, and opens it for the same row', () => {
    const box = new SecretBox([{ id: 'k1', key: newKey }]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', alice);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.seal('JBSWY3DPEHPK3PXP', alice)).not.toBe(sealed);
    expect(box.open(sealed, alice)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('writes the key id, a 96-bit nonce and a 16-byte tag into every ciphertext', () => {
    const box = new SecretBox([{ id: 'k1', key: newKey }]);
    const [version, keyId, nonce, , tag] = box.seal('secret', alice).split('.');
    expect([version, keyId]).toEqual(['v2', 'k1']);
    expect(Buffer.from(nonce, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
  });

  it("refuses a ciphertext copied to another user's row, or to another purpose", () => {
    const box = new SecretBox([{ id: 'k1', key: newKey }]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', mallory);
    expect(refusalOf(() => box.open(sealed, alice))).toMatchObject({ reason: 'does-not-open', keyId: 'k1' });
    expect(() => box.open(sealed, { purpose: 'sms-phone', row: 'mallory' })).toThrow(CiphertextRefused);
  });

  it('refuses a truncated tag (Node would accept a 4-byte one without authTagLength)', () => {
    const box = new SecretBox([{ id: 'k1', key: newKey }]);
    const parts = box.seal('JBSWY3DPEHPK3PXP', alice).split('.');
    for (const bytes of [12, 8, 4]) {
      const truncated = [
        ...parts.slice(0, 4),
        Buffer.from(parts[4], 'base64url').subarray(0, bytes).toString('base64url'),
      ];
      expect(refusalOf(() => box.open(truncated.join('.'), alice)).reason).toBe('malformed');
    }
  });

  it('refuses a truncated tag of a value from before associated data too', () => {
    const box = new SecretBox(oldKey);
    const parts = sealedAsBefore(oldKey, 'JBSWY3DPEHPK3PXP').split('.');
    parts[4] = Buffer.from(parts[4], 'base64url').subarray(0, 4).toString('base64url');
    expect(() => box.open(parts.join('.'), alice)).toThrow(CiphertextRefused);
  });

  it('refuses a tampered ciphertext', () => {
    const box = new SecretBox([{ id: 'k1', key: newKey }]);
    const parts = box.seal('secret', alice).split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(refusalOf(() => box.open(parts.join('.'), alice)).reason).toBe('does-not-open');
  });

  it('refuses a value under a key it is not given, naming the key id', () => {
    const sealed = new SecretBox([{ id: 'gone', key: oldKey }]).seal('secret', alice);
    const refusal = refusalOf(() => new SecretBox([{ id: 'k1', key: newKey }]).open(sealed, alice));
    expect(refusal).toMatchObject({ reason: 'unknown-key', keyId: 'gone' });
    expect(refusal.message).not.toContain('secret:');
  });

  it('opens values from before associated data (v1) under their key, whatever the row', () => {
    const legacy = sealedAsBefore(oldKey, '+15551234567');
    const box = new SecretBox([
      { id: 'k2', key: newKey },
      { id: 'k1', key: oldKey },
    ]);
    expect(box.open(legacy, alice)).toBe('+15551234567');
    expect(labelOf(legacy)).toEqual({
      version: 'v1',
      keyId: createHash('sha256').update(oldKey).digest('hex').slice(0, 8),
    });
    expect(box.configuredKeyId(labelOf(legacy)!)).toBe('k1');
  });

  it('seals under the first key and opens under every other', () => {
    const before = new SecretBox([{ id: 'k1', key: oldKey }]);
    const sealed = before.seal('+15551234567', alice);
    const after = new SecretBox([
      { id: 'k2', key: newKey },
      { id: 'k1', key: oldKey },
    ]);
    expect(after.open(sealed, alice)).toBe('+15551234567');
    expect(after.isCurrent(sealed)).toBe(false);
    expect(after.isCurrent(after.seal('+15551234567', alice))).toBe(true);
    expect(labelOf(after.seal('x', alice))).toEqual({ version: 'v2', keyId: 'k2' });
  });

  it('names ENCRYPTION_KEY 0 and ENCRYPTION_KEYS_RETIRED r1, r2, ...', () => {
    const box = new SecretBox(newKey, [oldKey, randomBytes(32)]);
    expect(box.keyIds).toEqual(['0', 'r1', 'r2']);
    expect(labelOf(new SecretBox(oldKey).seal('x', alice))?.keyId).toBe('0');
    expect(box.open(new SecretBox([{ id: 'r1', key: oldKey }]).seal('x', alice), alice)).toBe('x');
  });

  it('refuses values under an id whose key changed (ENCRYPTION_KEY replaced in place: start refuses this)', () => {
    const sealed = new SecretBox(oldKey).seal('x', alice);
    expect(refusalOf(() => new SecretBox(newKey, [oldKey]).open(sealed, alice))).toMatchObject({
      reason: 'does-not-open',
      keyId: '0',
    });
  });

  it('still finds hashes made under a retired key', () => {
    const before = new SecretBox(oldKey);
    const storedHash = before.hash('+15551234567');
    const after = new SecretBox(newKey, [oldKey]);
    expect(after.lookupHashes('+15551234567')).toContain(storedHash);
    expect(after.hash('+15551234567')).not.toBe(storedHash);
  });

  it('tells its listeners of every refusal, without the value', () => {
    const box = new SecretBox([{ id: 'k1', key: newKey }]);
    const heard: CiphertextRefused[] = [];
    box.onRefused((refusal) => heard.push(refusal));
    expect(() => box.open(box.seal('s3cret', mallory), alice)).toThrow(CiphertextRefused);
    expect(() => box.open('not a ciphertext', alice)).toThrow(CiphertextRefused);
    expect(heard.map((refusal) => [refusal.binding.userId, refusal.reason])).toEqual([
      ['alice', 'does-not-open'],
      ['alice', 'malformed'],
    ]);
    expect(heard.map((refusal) => refusal.message).join()).not.toContain('s3cret');
  });

  it('refuses key ids that would not survive in a ciphertext, and ids given twice', () => {
    expect(() => new SecretBox([{ id: 'a.b', key: newKey }])).toThrow('key id');
    expect(
      () =>
        new SecretBox([
          { id: 'k', key: newKey },
          { id: 'k', key: oldKey },
        ]),
    ).toThrow('twice');
  });
});
