import { randomBytes } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { parseWebAuthnJson } from '../../../src/factors/webauthn/webauthn-json';
import { WEBAUTHN_CEREMONY_TIMEOUT_MS, WEBAUTHN_JSON_MAX_BYTES } from '../../../src/factors/webauthn/webauthn-limits';
import {
  counterRefused,
  newWebAuthnUserHandle,
  WebAuthnRelyingParty,
  type StoredCredential,
} from '../../../src/factors/webauthn/webauthn-relying-party';
import {
  COSE,
  type CoseKey,
  craftRegistration,
  ecKey,
  offCurve,
  okpKey,
  rsaKey,
} from '../../support/crafted-registration';
import {
  SoftAuthenticator,
  type AssertionKnobs,
  type SoftAuthenticatorOptions,
} from '../../support/soft-authenticator';

const RP_ID = 'example.com';
const ORIGIN = 'https://app.example.com';
const rp = new WebAuthnRelyingParty({ rpId: RP_ID, rpName: 'Example', origins: [ORIGIN, 'https://example.com'] });

const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const bytesOf = (value: string) => Buffer.from(value, 'base64url');

async function register(options: SoftAuthenticatorOptions = {}, userHandle = newWebAuthnUserHandle()) {
  const authenticator = new SoftAuthenticator(options);
  const creation = await rp.registrationOptions({ userHandle, userName: 'alice@example.com', excludeCredentials: [] });
  const response = authenticator.register(creation, { origin: ORIGIN });
  const result = await rp.verifyRegistration(response, creation.challenge);
  if (!result.ok) throw new Error(`registration refused: ${result.detail}`);
  const credential: StoredCredential = {
    id: result.credentialId,
    publicKey: result.publicKey,
    counter: result.counter,
    transports: result.transports,
  };
  return { authenticator, credential, result, response, userHandle };
}

async function answer(
  authenticator: SoftAuthenticator,
  credential: StoredCredential,
  knobs: Partial<AssertionKnobs> = {},
) {
  const options = await rp.authenticationOptions({ allowCredentials: [credential] });
  const response = authenticator.authenticate(options, { origin: ORIGIN, ...knobs });
  return { options, response, result: await rp.verifyAuthentication(response, options.challenge, credential) };
}

describe('WebAuthnRelyingParty configuration', () => {
  it.each([
    [{ rpId: 'https://example.com', rpName: 'x', origins: [ORIGIN] }],
    [{ rpId: 'example.com:443', rpName: 'x', origins: [ORIGIN] }],
    [{ rpId: RP_ID, rpName: ' ', origins: [ORIGIN] }],
    [{ rpId: RP_ID, rpName: 'x', origins: [] }],
    [{ rpId: RP_ID, rpName: 'x', origins: ['app.example.com'] }],
    [{ rpId: RP_ID, rpName: 'x', origins: ['https://app.example.com/'] }],
    [{ rpId: RP_ID, rpName: 'x', origins: ['https://app.example.com/login'] }],
  ])('refuses %j', (config) => {
    expect(() => new WebAuthnRelyingParty(config)).toThrow();
  });

  it('accepts localhost with a port', () => {
    expect(
      () => new WebAuthnRelyingParty({ rpId: 'localhost', rpName: 'Dev', origins: ['http://localhost:3000'] }),
    ).not.toThrow();
  });
});

describe('registration options', () => {
  it('asks for attestation none, ES256/EdDSA/RS256, preferred resident key and user verification, 5 minutes', async () => {
    const userHandle = newWebAuthnUserHandle();
    const options = await rp.registrationOptions({
      userHandle,
      userName: 'alice@example.com',
      excludeCredentials: [{ id: b64u(randomBytes(32)), transports: ['usb', 'nfc', 'carrier-pigeon'] }],
    });
    expect(options.rp).toEqual({ id: RP_ID, name: 'Example' });
    expect(options.user).toEqual({ id: b64u(userHandle), name: 'alice@example.com', displayName: 'alice@example.com' });
    expect(options.attestation).toBe('none');
    expect(options.pubKeyCredParams.map((parameter) => parameter.alg)).toEqual([-7, -8, -257]);
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'preferred', userVerification: 'preferred' });
    expect(options.timeout).toBe(WEBAUTHN_CEREMONY_TIMEOUT_MS);
    expect(options.timeout).toBe(300_000);
    expect(options.excludeCredentials).toHaveLength(1);
    expect(options.excludeCredentials![0].transports).toEqual(['usb', 'nfc']);
    expect(bytesOf(options.challenge)).toHaveLength(32);
  });

  it('gives a new random challenge each time', async () => {
    const input = { userHandle: newWebAuthnUserHandle(), userName: 'a', excludeCredentials: [] };
    const challenges = new Set(
      await Promise.all(Array.from({ length: 20 }, async () => (await rp.registrationOptions(input)).challenge)),
    );
    expect(challenges.size).toBe(20);
  });

  it('refuses a user handle of 0 or more than 64 bytes', async () => {
    await expect(
      rp.registrationOptions({ userHandle: new Uint8Array(0), userName: 'a', excludeCredentials: [] }),
    ).rejects.toThrow(RangeError);
    await expect(
      rp.registrationOptions({ userHandle: new Uint8Array(65), userName: 'a', excludeCredentials: [] }),
    ).rejects.toThrow(RangeError);
    await expect(
      rp.registrationOptions({ userHandle: new Uint8Array(64), userName: 'a', excludeCredentials: [] }),
    ).resolves.toBeDefined();
  });

  it('lists the credentials to exclude, and an authenticator holding one of them refuses to make another', async () => {
    const { authenticator, credential, userHandle } = await register();
    const options = await rp.registrationOptions({
      userHandle,
      userName: 'alice@example.com',
      excludeCredentials: [credential],
    });
    expect(options.excludeCredentials).toEqual([{ id: credential.id, transports: ['usb'], type: 'public-key' }]);
    expect(() => authenticator.register(options, { origin: ORIGIN })).toThrow(/NotAllowed|excluded/i);
  });
});

describe('authentication options', () => {
  it('names the allowed credentials, prefers user verification, random challenge, 5 minutes', async () => {
    const id = b64u(randomBytes(32));
    const first = await rp.authenticationOptions({ allowCredentials: [{ id, transports: ['internal', 'bogus'] }] });
    const second = await rp.authenticationOptions({ allowCredentials: [{ id }] });
    expect(first.rpId).toBe(RP_ID);
    expect(first.allowCredentials).toEqual([{ id, transports: ['internal'], type: 'public-key' }]);
    expect(first.userVerification).toBe('preferred');
    expect(first.timeout).toBe(300_000);
    expect(bytesOf(first.challenge)).toHaveLength(32);
    expect(second.challenge).not.toBe(first.challenge);
  });

  it('refuses to make options naming no credential', async () => {
    await expect(rp.authenticationOptions({ allowCredentials: [] })).rejects.toThrow(RangeError);
  });
});

describe('registration', () => {
  it.each(['ES256', 'EdDSA', 'RS256'] as const)('accepts a %s credential', async (algorithm) => {
    const { result, response } = await register({ algorithm });
    expect(result).toMatchObject({
      ok: true,
      credentialId: response.id,
      counter: 0,
      transports: ['usb'],
      userVerified: true,
    });
    if (!result.ok) return;
    expect(result.publicKey).toBeInstanceOf(Uint8Array);
    expect(result.credentialId).toMatch(/^[A-Za-z0-9_-]+$/);
    // The emulator's stored credentials are backup eligible and backed up: a synced passkey.
    expect(result.backupEligible).toBe(true);
    expect(result.backedUp).toBe(true);
  });

  it('does not require user verification, and says when there was none', async () => {
    const { result } = await register({ userVerified: false });
    expect(result).toMatchObject({ ok: true, userVerified: false });
  });

  it('keeps only the known transports', async () => {
    const { result } = await register({ transports: ['usb', 'nfc', 'carrier-pigeon', 'usb'] });
    expect(result).toMatchObject({ ok: true, transports: ['usb', 'nfc'] });
  });

  async function refusedRegistration(
    knobs: Partial<Parameters<SoftAuthenticator['register']>[1]>,
    mutate?: (response: RegistrationResponseJSON) => unknown,
  ) {
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    const response = new SoftAuthenticator().register(options, { origin: ORIGIN, ...knobs });
    return rp.verifyRegistration(mutate ? mutate(response) : response, options.challenge);
  }

  it.each<[string, Partial<Parameters<SoftAuthenticator['register']>[1]>, RegExp]>([
    [
      'a sibling origin the RP id would allow but the configuration does not',
      { origin: 'https://evil.example.com' },
      /origin/,
    ],
    ['a foreign origin', { origin: 'https://example.org' }, /origin/],
    ['http instead of https', { origin: 'http://app.example.com' }, /origin/],
    ['the right origin with a port', { origin: 'https://app.example.com:8443' }, /origin/],
    ['another RP id', { rpId: 'example.org' }, /RP ID/],
    ['a parent domain as RP id', { rpId: 'com' }, /RP ID/],
    ['another challenge', { challenge: b64u(randomBytes(32)) }, /challenge/],
    ['no user presence', { userPresent: false }, /presence/],
  ])('refuses a response for %s', async (_name, knobs, why) => {
    const result = await refusedRegistration(knobs);
    expect(result).toMatchObject({ ok: false, reason: 'invalid', detail: expect.stringMatching(why) });
  });

  it('refuses a response whose id is not the attested credential id', async () => {
    const other = b64u(randomBytes(32));
    const result = await refusedRegistration({}, (response) => ({ ...response, id: other, rawId: other }));
    expect(result).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/attested credential id/),
    });
  });

  it('refuses an assertion in place of an attestation', async () => {
    const { authenticator, credential } = await register();
    const { response } = await answer(authenticator, credential);
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    expect(await rp.verifyRegistration(response, options.challenge)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses when there is no challenge to compare with', async () => {
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    const response = new SoftAuthenticator().register({ ...options, challenge: '' }, { origin: ORIGIN });
    expect(await rp.verifyRegistration(response, '')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await rp.verifyRegistration(response, undefined as unknown as string)).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });
});

describe('credential public keys (issue 21, finding 10)', () => {
  const creation = () =>
    rp.registrationOptions({ userHandle: newWebAuthnUserHandle(), userName: 'a', excludeCredentials: [] });

  it.each<[string, () => CoseKey]>([
    ['a P-256 key (ES256)', () => ecKey('P-256', -7, 1)],
    ['an Ed25519 key (EdDSA)', () => okpKey()],
    ['a 2048-bit RSA key with exponent 65537 (RS256)', () => rsaKey(2048)],
    ['a 3072-bit RSA key', () => rsaKey(3072)],
  ])('accepts %s made by hand (the refusals below are the keys, not the making)', async (_name, key) => {
    const options = await creation();
    const result = await rp.verifyRegistration(
      craftRegistration(options, key(), { origin: ORIGIN }),
      options.challenge,
    );
    expect(result).toMatchObject({ ok: true });
  });

  it.each<[string, () => CoseKey]>([
    ['a P-256 point not on its curve', () => offCurve(ecKey('P-256', -7, 1))],
    ['an ES256 key on P-384 (the wrong curve)', () => ecKey('P-384', -7, 2)],
    ['an EC2 key on an unknown curve', () => new Map(ecKey('P-256', -7, 1)).set(COSE.crv, 99)],
    ['an EC2 key with a coordinate cut short', () => new Map(ecKey('P-256', -7, 1)).set(COSE.x, new Uint8Array(31))],
    ['an ES384 key (an algorithm not offered)', () => ecKey('P-384', -35, 2)],
    ['an EdDSA key on X25519', () => okpKey(4)],
    ['an EdDSA key with a 31-byte x', () => okpKey(6, new Uint8Array(31).fill(1))],
    ['an EdDSA key labelled EC2', () => new Map(okpKey()).set(COSE.kty, 2)],
    ['a 512-bit RSA key', () => rsaKey(512)],
    ['a 1024-bit RSA key', () => rsaKey(1024)],
    ['a 2048-bit RSA key with exponent 1', () => rsaKey(2048, 1)],
    ['a 2048-bit RSA key with exponent 3', () => rsaKey(2048, 3)],
    [
      'an RSA key without its exponent',
      () => {
        const key = rsaKey(2048);
        key.delete(COSE.e);
        return key;
      },
    ],
    [
      'an ML-DSA key (an unknown algorithm)',
      () =>
        new Map<number, number | Uint8Array>([
          [COSE.kty, 7],
          [COSE.alg, -48],
          [-1, new Uint8Array(1312)],
        ]),
    ],
    [
      'a key with no algorithm',
      () => {
        const key = ecKey('P-256', -7, 1);
        key.delete(COSE.alg);
        return key;
      },
    ],
  ])('refuses %s as an unacceptable key, before anything else is checked', async (_name, key) => {
    const options = await creation();
    const response = craftRegistration(options, key(), { origin: ORIGIN });
    expect(rp.credentialKeyProblem(response)).toEqual(expect.any(String));
    expect(await rp.verifyRegistration(response, options.challenge)).toMatchObject({
      ok: false,
      reason: 'unacceptable-key',
    });
    // Refused the same against a challenge it does not answer: the key alone decides.
    expect(await rp.verifyRegistration(response, b64u(randomBytes(32)))).toMatchObject({ reason: 'unacceptable-key' });
  });

  it('names no key problem for a response whose attestation cannot be read (verification refuses it)', () => {
    expect(rp.credentialKeyProblem({ response: { attestationObject: 'AAAA' } })).toBeNull();
    expect(rp.credentialKeyProblem('junk')).toBeNull();
  });
});

describe('cross-origin client data (issue 21, finding 11)', () => {
  it.each<[string, { crossOrigin?: boolean; topOrigin?: string }]>([
    ['crossOrigin: true', { crossOrigin: true }],
    ['crossOrigin: true with a top origin', { crossOrigin: true, topOrigin: 'https://evil.example.org' }],
    ['a top origin without crossOrigin', { topOrigin: 'https://evil.example.org' }],
  ])('refuses a registration with %s', async (_name, fields) => {
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    const response = craftRegistration(options, ecKey('P-256', -7, 1), { origin: ORIGIN, ...fields });
    expect(await rp.verifyRegistration(response, options.challenge)).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/cross-origin|top origin/i),
    });
  });

  it.each<[string, Partial<AssertionKnobs>]>([
    ['crossOrigin: true', { crossOrigin: true }],
    ['crossOrigin: true with a top origin', { crossOrigin: true, topOrigin: 'https://evil.example.org' }],
    ['a top origin without crossOrigin', { crossOrigin: false, topOrigin: 'https://evil.example.org' }],
  ])('refuses an assertion with %s', async (_name, knobs) => {
    const { authenticator, credential } = await register();
    expect((await answer(authenticator, credential, knobs)).result).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/cross-origin|top origin/i),
    });
  });

  it('accepts crossOrigin: false, as browsers send it', async () => {
    const { authenticator, credential } = await register();
    expect((await answer(authenticator, credential, { crossOrigin: false })).result).toMatchObject({ ok: true });
  });
});

describe('authentication', () => {
  it.each(['ES256', 'EdDSA', 'RS256'] as const)(
    'accepts an assertion of a %s credential, and the next one',
    async (algorithm) => {
      const { authenticator, credential } = await register({ algorithm });
      const first = await answer(authenticator, credential);
      expect(first.result).toEqual({ ok: true, newCounter: 1, userVerified: true, backedUp: true });
      const second = await answer(authenticator, { ...credential, counter: 1 });
      expect(second.result).toMatchObject({ ok: true, newCounter: 2 });
    },
  );

  it('accepts an assertion signed outside the emulator (the path the counter knobs use)', async () => {
    const { authenticator, credential } = await register();
    expect((await answer(authenticator, credential, { counter: 41 })).result).toMatchObject({
      ok: true,
      newCounter: 41,
    });
    expect(authenticator.signCount()).toBe(41);
    // And the emulator carries on from there.
    expect((await answer(authenticator, { ...credential, counter: 41 })).result).toMatchObject({
      ok: true,
      newCounter: 42,
    });
  });

  it('does not require user verification, and says when there was none', async () => {
    const { authenticator, credential } = await register();
    expect((await answer(authenticator, credential, { userVerified: false })).result).toMatchObject({
      ok: true,
      userVerified: false,
    });
  });

  it('checks the user handle when one is stored and one is sent', async () => {
    const { authenticator, credential, userHandle } = await register();
    const { response, options } = await answer(authenticator, credential);
    expect(response.response.userHandle).toBe(b64u(userHandle));
    const next = await rp.authenticationOptions({ allowCredentials: [credential] });
    const again = authenticator.authenticate(next, { origin: ORIGIN });
    expect(
      await rp.verifyAuthentication(again, next.challenge, { ...credential, counter: 1, userHandle }),
    ).toMatchObject({ ok: true });
    const another = authenticator.authenticate(options, { origin: ORIGIN, challenge: next.challenge });
    expect(
      await rp.verifyAuthentication(another, next.challenge, {
        ...credential,
        counter: 2,
        userHandle: newWebAuthnUserHandle(),
      }),
    ).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it.each<[string, Partial<AssertionKnobs>, RegExp]>([
    ['a sibling origin', { origin: 'https://evil.example.com' }, /origin/],
    ['a foreign origin', { origin: 'https://example.org' }, /origin/],
    ['another RP id', { rpId: 'example.org' }, /RP ID/],
    ['another challenge', { challenge: b64u(randomBytes(32)) }, /challenge/],
    ['no user presence', { userPresent: false }, /not present/],
    ['a tampered signature', { tamperSignature: true }, /signature/],
    ['a tampered signature made outside the emulator', { tamperSignature: true, counter: 9 }, /signature/],
  ])('refuses an assertion with %s', async (_name, knobs, why) => {
    const { authenticator, credential } = await register();
    expect((await answer(authenticator, credential, knobs)).result).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(why),
    });
  });

  it('refuses a replayed response: against a fresh challenge, and (counting key) against its own once the counter is stored', async () => {
    const { authenticator, credential } = await register();
    const first = await answer(authenticator, credential);
    expect(first.result).toMatchObject({ ok: true, newCounter: 1 });
    const fresh = await rp.authenticationOptions({ allowCredentials: [credential] });
    expect(await rp.verifyAuthentication(first.response, fresh.challenge, { ...credential, counter: 1 })).toMatchObject(
      {
        ok: false,
        reason: 'invalid',
        detail: expect.stringMatching(/challenge/),
      },
    );
    // This layer is stateless: only the caller's single-use challenge stops a replay against the
    // same challenge; for a key that counts, the stored counter refuses it as well.
    expect(
      await rp.verifyAuthentication(first.response, first.options.challenge, { ...credential, counter: 1 }),
    ).toMatchObject({
      ok: false,
      reason: 'counter',
    });
  });

  it('refuses a response of another credential (unknown here), and one relabelled with this credential id', async () => {
    const alice = await register();
    const mallory = await register();
    const options = await rp.authenticationOptions({ allowCredentials: [mallory.credential] });
    const response = mallory.authenticator.authenticate(options, { origin: ORIGIN });
    expect(await rp.verifyAuthentication(response, options.challenge, alice.credential)).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/another credential/),
    });
    const relabelled = { ...response, id: alice.credential.id, rawId: alice.credential.id };
    expect(await rp.verifyAuthentication(relabelled, options.challenge, alice.credential)).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/signature/),
    });
  });

  it('refuses an attestation in place of an assertion', async () => {
    const { response, credential } = await register();
    const options = await rp.authenticationOptions({ allowCredentials: [credential] });
    expect(await rp.verifyAuthentication(response, options.challenge, credential)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('refuses when the stored public key is not one', async () => {
    const { authenticator, credential } = await register();
    expect(
      (await answer(authenticator, { ...credential, publicKey: new Uint8Array(randomBytes(77)) })).result,
    ).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  describe('signature counter', () => {
    it('refuses a lowered counter as a possible clone', async () => {
      const { authenticator, credential } = await register();
      expect((await answer(authenticator, { ...credential, counter: 5 }, { counter: 3 })).result).toEqual({
        ok: false,
        reason: 'counter',
        detail: expect.any(String),
        storedCounter: 5,
        receivedCounter: 3,
      });
    });

    it('refuses an equal non-zero counter', async () => {
      const { authenticator, credential } = await register();
      expect((await answer(authenticator, { ...credential, counter: 7 }, { counter: 7 })).result).toMatchObject({
        ok: false,
        reason: 'counter',
        storedCounter: 7,
        receivedCounter: 7,
      });
    });

    it('refuses a counter back at 0 after counting', async () => {
      const { authenticator, credential } = await register();
      expect((await answer(authenticator, { ...credential, counter: 3 }, { counter: 0 })).result).toMatchObject({
        ok: false,
        reason: 'counter',
      });
    });

    it('accepts 0 on both sides, again and again (passkeys that never count)', async () => {
      const { authenticator, credential } = await register({ signCounterIncrement: 0 });
      for (let attempt = 0; attempt < 3; attempt += 1) {
        expect((await answer(authenticator, credential)).result).toMatchObject({ ok: true, newCounter: 0 });
      }
    });

    it('accepts a counter that jumps ahead', async () => {
      const { authenticator, credential } = await register();
      expect((await answer(authenticator, { ...credential, counter: 2 }, { counter: 1_000 })).result).toMatchObject({
        ok: true,
        newCounter: 1_000,
      });
    });

    it('only reports a clone for a good signature', async () => {
      const { authenticator, credential } = await register();
      expect(
        (await answer(authenticator, { ...credential, counter: 5 }, { counter: 3, tamperSignature: true })).result,
      ).toMatchObject({
        ok: false,
        reason: 'invalid',
      });
    });

    it.each([
      [0, 0, false],
      [0, 1, false],
      [1, 2, false],
      [1, 1, true],
      [2, 1, true],
      [1, 0, true],
      [0xffff_fffe, 0xffff_ffff, false],
      [0xffff_ffff, 0xffff_ffff, true],
    ])('counterRefused(stored %d, received %d) is %s', (stored, received, refused) => {
      expect(counterRefused(stored, received)).toBe(refused);
    });
  });
});

describe('malformed input', () => {
  let registration: RegistrationResponseJSON;
  let assertion: AuthenticationResponseJSON;
  let credential: StoredCredential;
  let challenge: string;

  beforeAll(async () => {
    const registered = await register();
    registration = registered.response;
    credential = registered.credential;
    const { options, response } = await answer(registered.authenticator, credential);
    assertion = response;
    challenge = options.challenge;
  });

  const withResponse = (base: AuthenticationResponseJSON, fields: Record<string, unknown>) => ({
    ...base,
    response: { ...base.response, ...fields },
  });
  const nested = (depth: number) => {
    let value: Record<string, unknown> = {};
    for (let level = 0; level < depth; level += 1) value = { a: value };
    return value;
  };
  const cyclic = () => {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  };

  it('parses a browser response into a fresh object with the known fields only', () => {
    const parsed = parseWebAuthnJson(
      { ...assertion, extra: 'ignored', response: { ...assertion.response, alsoIgnored: 1 } },
      'authentication',
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        id: assertion.id,
        rawId: assertion.id,
        type: 'public-key',
        response: {
          clientDataJSON: assertion.response.clientDataJSON,
          authenticatorData: assertion.response.authenticatorData,
          signature: assertion.response.signature,
          userHandle: assertion.response.userHandle,
        },
        clientExtensionResults: assertion.clientExtensionResults,
      },
    });
    expect(parseWebAuthnJson(JSON.parse(JSON.stringify(registration)), 'registration')).toMatchObject({ ok: true });
  });

  it('reads an absent, null or empty userHandle as absent', () => {
    for (const userHandle of [undefined, null, '']) {
      const parsed = parseWebAuthnJson(withResponse(assertion, { userHandle }), 'authentication');
      expect(parsed.ok && parsed.value.response.userHandle).toBeUndefined();
    }
  });

  // Each is refused by the shape check (BAD_USER_INPUT), and by verifyAuthentication as 'malformed'.
  const shapes: Array<[string, () => unknown]> = [
    ['undefined', () => undefined],
    ['null', () => null],
    ['a string', () => 'public-key'],
    ['the response as a JSON string', () => JSON.stringify(assertion)],
    ['a number', () => 42],
    ['a boolean', () => true],
    ['an array', () => []],
    ['an array holding the response', () => [assertion]],
    ['a Date', () => new Date()],
    ['a Map', () => new Map(Object.entries(assertion))],
    ['a class instance', () => Object.assign(Object.create({ inherited: true }), assertion)],
    ['a function', () => () => assertion],
    ['an empty object', () => ({})],
    ['a numeric id', () => ({ ...assertion, id: 12345, rawId: 12345 })],
    ['an id that is not base64url', () => ({ ...assertion, id: 'not base64!', rawId: 'not base64!' })],
    [
      'an id in standard base64',
      () => ({ ...assertion, id: '+/+/+/+/+/+/+/+/+/+/+w', rawId: '+/+/+/+/+/+/+/+/+/+/+w' }),
    ],
    ['a padded id', () => ({ ...assertion, id: `${assertion.id}=`, rawId: `${assertion.id}=` })],
    ['a non-canonical id', () => ({ ...assertion, id: `${'A'.repeat(21)}B`, rawId: `${'A'.repeat(21)}B` })],
    ['an id of 8 bytes', () => ({ ...assertion, id: b64u(randomBytes(8)), rawId: undefined })],
    ['an id of 1024 bytes', () => ({ ...assertion, id: b64u(randomBytes(1024)), rawId: b64u(randomBytes(1024)) })],
    ['a rawId unlike id', () => ({ ...assertion, rawId: b64u(randomBytes(32)) })],
    ['no rawId', () => ({ ...assertion, rawId: undefined })],
    ['type password', () => ({ ...assertion, type: 'password' })],
    ['no type', () => ({ ...assertion, type: undefined })],
    ['response as a string', () => ({ ...assertion, response: 'x' })],
    ['response as an array', () => ({ ...assertion, response: [assertion.response] })],
    ['response null', () => ({ ...assertion, response: null })],
    ['a numeric clientDataJSON', () => withResponse(assertion, { clientDataJSON: 7 })],
    ['an object as clientDataJSON', () => withResponse(assertion, { clientDataJSON: { type: 'webauthn.get' } })],
    ['no signature', () => withResponse(assertion, { signature: undefined })],
    ['an empty signature', () => withResponse(assertion, { signature: '' })],
    ['a signature with spaces', () => withResponse(assertion, { signature: 'AAAA AAAA' })],
    ['a signature of 5 characters', () => withResponse(assertion, { signature: 'AAAAA' })],
    ['a 20 KiB signature', () => withResponse(assertion, { signature: 'A'.repeat(20 * 1024) })],
    ['a 3 KiB signature', () => withResponse(assertion, { signature: 'A'.repeat(3 * 1024) })],
    ['no authenticatorData', () => withResponse(assertion, { authenticatorData: undefined })],
    ['a userHandle of 65 bytes', () => withResponse(assertion, { userHandle: b64u(randomBytes(65)) })],
    ['a numeric userHandle', () => withResponse(assertion, { userHandle: 5 })],
    ['no clientExtensionResults', () => ({ ...assertion, clientExtensionResults: undefined })],
    ['clientExtensionResults as an array', () => ({ ...assertion, clientExtensionResults: [] })],
    ['a numeric authenticatorAttachment', () => ({ ...assertion, authenticatorAttachment: 1 })],
    [
      'more than 16 KiB',
      () => ({ ...assertion, clientExtensionResults: { padding: 'x'.repeat(WEBAUTHN_JSON_MAX_BYTES) } }),
    ],
    [
      'more than 16 KiB in UTF-8 though fewer characters',
      () => ({ ...assertion, clientExtensionResults: { padding: 'é'.repeat(9 * 1024) } }),
    ],
    [
      'more than 16 KiB in keys',
      () => ({
        ...assertion,
        clientExtensionResults: Object.fromEntries(
          Array.from({ length: 400 }, (_, index) => [`k${index}${'x'.repeat(60)}`, 0]),
        ),
      }),
    ],
    [
      'too many values',
      () => ({ ...assertion, clientExtensionResults: { list: Array.from({ length: 600 }, () => 0) } }),
    ],
    ['a huge sparse array', () => ({ ...assertion, clientExtensionResults: { list: new Array(1e9) } })],
    ['nesting 9 deep', () => ({ ...assertion, clientExtensionResults: nested(8) })],
    ['nesting 10 000 deep', () => ({ ...assertion, clientExtensionResults: nested(10_000) })],
    ['a cycle', () => ({ ...assertion, clientExtensionResults: cyclic() })],
    ['NaN', () => ({ ...assertion, clientExtensionResults: { n: Number.NaN } })],
    ['Infinity', () => ({ ...assertion, clientExtensionResults: { n: Number.POSITIVE_INFINITY } })],
    ['a bigint', () => ({ ...assertion, clientExtensionResults: { n: BigInt(1) } })],
    ['a symbol', () => ({ ...assertion, clientExtensionResults: { s: Symbol('s') } })],
    ['a nested Date', () => ({ ...assertion, clientExtensionResults: { d: new Date() } })],
  ];

  it.each(shapes)('refuses %s', async (_name, make) => {
    const value = make();
    const parsed = parseWebAuthnJson(value, 'authentication');
    expect(parsed).toEqual({ ok: false, reason: expect.any(String) });
    await expect(rp.verifyAuthentication(value, challenge, credential)).resolves.toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('names the problem', () => {
    expect(parseWebAuthnJson('x', 'authentication')).toEqual({
      ok: false,
      reason: 'the WebAuthn response must be a JSON object',
    });
    expect(
      parseWebAuthnJson(
        { ...assertion, clientExtensionResults: { padding: 'x'.repeat(WEBAUTHN_JSON_MAX_BYTES) } },
        'authentication',
      ),
    ).toEqual({
      ok: false,
      reason: 'the WebAuthn response is larger than 16384 bytes',
    });
    expect(parseWebAuthnJson(withResponse(assertion, { signature: 'a+b=' }), 'authentication')).toEqual({
      ok: false,
      reason: 'response.signature must be base64url without padding',
    });
    expect(parseWebAuthnJson({ ...assertion, clientExtensionResults: nested(20) }, 'authentication')).toEqual({
      ok: false,
      reason: 'the WebAuthn response is nested deeper than 8 levels',
    });
  });

  const registrationShapes: Array<[string, () => unknown]> = [
    [
      'no attestationObject',
      () => ({ ...registration, response: { ...registration.response, attestationObject: undefined } }),
    ],
    [
      'a numeric attestationObject',
      () => ({ ...registration, response: { ...registration.response, attestationObject: 1 } }),
    ],
    ['transports as a string', () => ({ ...registration, response: { ...registration.response, transports: 'usb' } })],
    [
      'a numeric transport',
      () => ({ ...registration, response: { ...registration.response, transports: ['usb', 1] } }),
    ],
    [
      '17 transports',
      () => ({
        ...registration,
        response: { ...registration.response, transports: Array.from({ length: 17 }, () => 'usb') },
      }),
    ],
    [
      'a fractional publicKeyAlgorithm',
      () => ({ ...registration, response: { ...registration.response, publicKeyAlgorithm: -7.5 } }),
    ],
    [
      'a publicKey that is not base64url',
      () => ({ ...registration, response: { ...registration.response, publicKey: '%%%' } }),
    ],
    [
      'a 13 KiB attestationObject',
      () => ({ ...registration, response: { ...registration.response, attestationObject: 'A'.repeat(13 * 1024) } }),
    ],
  ];

  it.each(registrationShapes)('refuses a registration with %s', async (_name, make) => {
    const value = make();
    expect(parseWebAuthnJson(value, 'registration')).toEqual({ ok: false, reason: expect.any(String) });
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    await expect(rp.verifyRegistration(value, options.challenge)).resolves.toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  // Well-formed base64url with junk inside: the library fails, and that is an ordinary refusal.
  const junk: Array<[string, () => Record<string, unknown>]> = [
    ['clientDataJSON that is not JSON', () => ({ clientDataJSON: b64u('not json') })],
    ['clientDataJSON that is JSON null', () => ({ clientDataJSON: b64u('null') })],
    ['clientDataJSON that is a JSON array', () => ({ clientDataJSON: b64u('[1,2]') })],
    [
      'clientDataJSON with a numeric challenge',
      () => ({ clientDataJSON: b64u(JSON.stringify({ type: 'webauthn.get', challenge: 1, origin: ORIGIN })) }),
    ],
    ['clientDataJSON of random bytes', () => ({ clientDataJSON: b64u(randomBytes(100)) })],
    ['authenticatorData of 10 bytes', () => ({ authenticatorData: b64u(randomBytes(10)) })],
    ['authenticatorData of 37 random bytes', () => ({ authenticatorData: b64u(randomBytes(37)) })],
    [
      'authenticatorData with bytes left over',
      () => ({
        authenticatorData: b64u(Buffer.concat([bytesOf(assertion.response.authenticatorData), randomBytes(5)])),
      }),
    ],
    [
      'authenticatorData flagging extensions that are not CBOR',
      () => {
        const data = Buffer.concat([bytesOf(assertion.response.authenticatorData), Buffer.from([0xff, 0xff])]);
        data[32] |= 0x80;
        return { authenticatorData: b64u(data) };
      },
    ],
    [
      'authenticatorData flagging attested data that is not there',
      () => {
        const data = bytesOf(assertion.response.authenticatorData);
        data[32] |= 0x40;
        return { authenticatorData: b64u(data) };
      },
    ],
    ['a signature of random bytes', () => ({ signature: b64u(randomBytes(70)) })],
    ['a signature of one byte', () => ({ signature: b64u(randomBytes(1)) })],
  ];

  it.each(junk)('refuses an assertion with %s, without throwing', async (_name, fields) => {
    const value = withResponse(assertion, fields());
    expect(parseWebAuthnJson(value, 'authentication')).toMatchObject({ ok: true });
    await expect(rp.verifyAuthentication(value, challenge, credential)).resolves.toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  const registrationJunk: Array<[string, () => Record<string, unknown>]> = [
    ['an attestationObject of random bytes', () => ({ attestationObject: b64u(randomBytes(200)) })],
    ['an attestationObject that is an empty CBOR map', () => ({ attestationObject: b64u(Buffer.from([0xa0])) })],
    [
      'an attestationObject that is a CBOR string',
      () => ({ attestationObject: b64u(Buffer.from([0x63, 0x61, 0x62, 0x63])) }),
    ],
    [
      'an attestationObject cut short',
      () => ({ attestationObject: b64u(bytesOf(registration.response.attestationObject).subarray(0, 60)) }),
    ],
    [
      'an indefinite-length CBOR attestationObject',
      () => ({ attestationObject: b64u(Buffer.from([0xbf, 0x63, 0x66, 0x6d, 0x74])) }),
    ],
    ['clientDataJSON that is not JSON', () => ({ clientDataJSON: b64u('{') })],
  ];

  it.each(registrationJunk)('refuses a registration with %s, without throwing', async (_name, fields) => {
    const value = { ...registration, response: { ...registration.response, ...fields() } };
    expect(parseWebAuthnJson(value, 'registration')).toMatchObject({ ok: true });
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    await expect(rp.verifyRegistration(value, options.challenge)).resolves.toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it("refuses every single-bit change of an assertion, the signature's DER encoding included", async () => {
    const accepted: string[] = [];
    for (const field of ['clientDataJSON', 'authenticatorData', 'signature'] as const) {
      const original = bytesOf(assertion.response[field]);
      for (let index = 0; index < original.length; index += 1) {
        for (let bit = 0; bit < 8; bit += 1) {
          const bytes = Buffer.from(original);
          bytes[index] ^= 1 << bit;
          const result = await rp.verifyAuthentication(
            withResponse(assertion, { [field]: b64u(bytes) }),
            challenge,
            credential,
          );
          if (result.ok) accepted.push(`${field}[${index}] bit ${bit}`);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('never throws, and never accepts, on bit flips anywhere in an assertion', async () => {
    const fields = ['clientDataJSON', 'authenticatorData', 'signature'] as const;
    for (let round = 0; round < 150; round += 1) {
      const field = fields[round % fields.length];
      const bytes = bytesOf(assertion.response[field]);
      bytes[Math.floor(Math.random() * bytes.length)] ^= 1 << Math.floor(Math.random() * 8);
      const result = await rp.verifyAuthentication(
        withResponse(assertion, { [field]: b64u(bytes) }),
        challenge,
        credential,
      );
      expect(result.ok).toBe(false);
    }
  });

  it('never throws on bit flips anywhere in a registration', async () => {
    const options = await rp.registrationOptions({
      userHandle: newWebAuthnUserHandle(),
      userName: 'a',
      excludeCredentials: [],
    });
    const response = new SoftAuthenticator().register(options, { origin: ORIGIN });
    for (let round = 0; round < 150; round += 1) {
      const field = round % 2 === 0 ? 'attestationObject' : 'clientDataJSON';
      const bytes = bytesOf(response.response[field]);
      bytes[Math.floor(Math.random() * bytes.length)] ^= 1 << Math.floor(Math.random() * 8);
      // Attestation `none` signs nothing, so a flip in, say, the AAGUID still registers: only "no throw" is asserted.
      const result = await rp.verifyRegistration(
        { ...response, response: { ...response.response, [field]: b64u(bytes) } },
        options.challenge,
      );
      expect(typeof result.ok).toBe('boolean');
    }
  });
});
