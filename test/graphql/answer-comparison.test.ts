import { generateKeyPairSync, sign } from 'node:crypto';
import { describeDifference, type RawAnswer } from './paired-apps';

/**
 * What the executor parity proof sets aside when it compares two answers, and
 * what it does not: an ES256 signature's random nonce, only where the signed
 * bytes are the same and each signature verifies with its instance's key.
 */

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = { jit: publicKey, graphqlJs: publicKey };

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const signed = (payload: object, key = privateKey) => {
  const input = `${part({ alg: 'ES256', typ: 'secevent+jwt' })}.${part(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
};
const answer = (...sets: string[]): RawAnswer => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ sets: Object.fromEntries(sets.map((set, index) => [`jti-${index}`, set])) }),
});

describe('comparing the two executors’ answers', () => {
  const payload = { iss: 'http://127.0.0.1:1', jti: 'a.1', events: { change: {} } };

  it('takes the same SETs signed with fresh nonces for the same answer', () => {
    const [first, second] = [signed(payload), signed(payload)];
    expect(first).not.toBe(second);
    expect(
      describeDifference(
        answer(first, signed({ ...payload, jti: 'b.2' })),
        answer(second, signed({ ...payload, jti: 'b.2' })),
        keys,
      ),
    ).toBeUndefined();
  });

  it('still tells SETs apart whose header or payload differ, or whose signature does not verify', () => {
    expect(describeDifference(answer(signed(payload)), answer(signed({ ...payload, jti: 'a.2' })), keys)).toMatch(
      /^body differs/,
    );
    expect(describeDifference(answer(signed(payload)), answer(signed(payload, other.privateKey)), keys)).toMatch(
      /^body differs/,
    );
    const forged = `${signed(payload).slice(0, -86)}${'A'.repeat(86)}`;
    expect(describeDifference(answer(signed(payload)), answer(forged), keys)).toMatch(/^body differs/);
    // Without the instances' keys nothing is set aside.
    expect(describeDifference(answer(signed(payload)), answer(signed(payload)))).toMatch(/^body differs/);
  });
});
