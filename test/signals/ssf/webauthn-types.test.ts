import { SoftAuthenticator } from '../../support/soft-authenticator';
import { startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { AUTH_ISSUER, call, CREDENTIAL_CHANGE, eventOf, POLL, ssfApp, verifySet } from './ssf-support';

const ORIGIN = 'http://localhost:5173';
const START_REGISTRATION =
  'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { options } }';
const CONFIRM_REGISTRATION =
  'mutation($r: JSON!, $n: String) { confirmWebAuthnRegistration(response: $r, name: $n) { status { webAuthnCredentials { id transports } } } }';
const START_STEP_UP = 'mutation { startWebAuthnStepUp { options } }';
const REMOVE = 'mutation($id: ID!, $w: JSON) { removeWebAuthnCredential(id: $id, webAuthn: $w) { enabled } }';

/**
 * A security key's CAEP credential type: `fido2-platform` for one built into the
 * device (transport `internal`), `fido2-roaming` for a key; a removal names the
 * one removed; the key's name never appears.
 */
describe('Shared Signals: security keys and passkeys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ssfApp({ WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: ORIGIN }));
  });
  afterAll(() => t.close());

  it('names fido2-roaming and fido2-platform credentials as they are added and removed', async () => {
    const admin = await t.token('receiver-idp', ['twofactor:admin']);
    const user = uniqueId('keys');
    const stream = (
      await call(t, 'POST', '/ssf/streams', admin, {
        events_requested: [CREDENTIAL_CHANGE],
        delivery: { method: POLL },
      })
    ).body.stream_id;
    await call(t, 'POST', '/ssf/subjects:add', admin, {
      stream_id: stream,
      subject: { format: 'iss_sub', iss: AUTH_ISSUER, sub: user },
    });
    const token = await t.token(user, [], { authTime: t.clock.now() });
    const roaming = new SoftAuthenticator({ transports: ['usb'] });
    const platform = new SoftAuthenticator({ transports: ['internal'] });

    const first = await t.gql(START_REGISTRATION, {}, token);
    const one = await t.gql(
      CONFIRM_REGISTRATION,
      { r: roaming.register(first.data.startWebAuthnRegistration.options, { origin: ORIGIN }), n: 'Secret Key Name' },
      token,
    );
    expect(one.errors).toBeUndefined();
    const stepUp = async (key: SoftAuthenticator) => {
      const options = (await t.gql(START_STEP_UP, {}, token)).data.startWebAuthnStepUp.options;
      return key.authenticate(options, { origin: ORIGIN });
    };
    const second = await t.gql(START_REGISTRATION, { w: await stepUp(roaming) }, token);
    const two = await t.gql(
      CONFIRM_REGISTRATION,
      { r: platform.register(second.data.startWebAuthnRegistration.options, { origin: ORIGIN }), n: 'Laptop' },
      token,
    );
    expect(two.errors).toBeUndefined();
    const credentials = two.data.confirmWebAuthnRegistration.status.webAuthnCredentials as {
      id: string;
      transports: string[];
    }[];
    const roamingId = credentials.find((credential) => credential.transports.includes('usb'))!.id;
    const removed = await t.gql(REMOVE, { id: roamingId, w: await stepUp(platform) }, token);
    expect(removed.errors).toBeUndefined();

    const { body } = await call(t, 'POST', `/ssf/poll/${stream}`, admin, { returnImmediately: true });
    const sets = Object.values(body.sets as Record<string, string>);
    const events = (await Promise.all(sets.map((set) => verifySet(t, set, 'receiver-idp')))).map(eventOf);
    expect(events.map((event) => [event.claims.credential_type, event.claims.change_type])).toEqual([
      ['fido2-roaming', 'create'],
      ['fido2-platform', 'create'],
      ['fido2-roaming', 'delete'],
    ]);
    const decoded = sets.map((set) => Buffer.from(set.split('.')[1], 'base64url').toString('utf8')).join('\n');
    expect(decoded).not.toContain('Secret Key Name');
    expect(decoded).not.toContain(roamingId);
  });
});
