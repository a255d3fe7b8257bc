import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

const ROOT = join(__dirname, '..', '..');
const ORIGIN = 'http://localhost:5173';

/** `npm run -s webauthn -- ...` runs this, from the project folder. */
function softKey(args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'scripts', 'soft-key.mjs'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
  });
}

describe('npm run -s webauthn (scripts/soft-key.mjs)', () => {
  it('registers a key the server verifies (into an empty key file), then answers with it from its key file, its counter growing', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'tf-soft-key-')), 'dana.key');
    writeFileSync(keyFile, ''); // as mktemp leaves it: an authenticator without credentials
    const options = await generateRegistrationOptions({
      rpName: 'TwoFactor',
      rpID: 'localhost',
      userName: 'dana',
      attestationType: 'none',
    });
    const registered = softKey(['register', keyFile, JSON.stringify(options)]);
    expect({ status: registered.status, stderr: registered.stderr }).toEqual({ status: 0, stderr: '' });
    const registration = await verifyRegistrationResponse({
      response: JSON.parse(registered.stdout),
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: 'localhost',
    });
    expect(registration.verified).toBe(true);
    const { credential } = registration.registrationInfo!;
    expect(JSON.parse(registered.stdout).response.transports).toEqual(['internal', 'hybrid']);

    let counter = credential.counter;
    for (let round = 0; round < 2; round += 1) {
      const request = await generateAuthenticationOptions({
        rpID: 'localhost',
        allowCredentials: [{ id: credential.id }],
      });
      const answered = softKey(['answer', keyFile, JSON.stringify(request)]);
      expect({ status: answered.status, stderr: answered.stderr }).toEqual({ status: 0, stderr: '' });
      const verification = await verifyAuthenticationResponse({
        response: JSON.parse(answered.stdout),
        expectedChallenge: request.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: 'localhost',
        credential: { ...credential, counter },
      });
      expect(verification.verified).toBe(true);
      expect(verification.authenticationInfo.newCounter).toBeGreaterThan(counter);
      counter = verification.authenticationInfo.newCounter;
    }
  });

  it('plays the origin it is given, so the server can refuse a look-alike page', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'tf-soft-key-')), 'key');
    const options = await generateRegistrationOptions({ rpName: 'TwoFactor', rpID: 'localhost', userName: 'erik' });
    softKey(['register', keyFile, JSON.stringify(options)]);
    const request = await generateAuthenticationOptions({ rpID: 'localhost' });
    const answered = softKey(['answer', keyFile, JSON.stringify(request), '--origin', 'https://login.examp1e.com']);
    expect(answered.status).toBe(0);
    const clientData = JSON.parse(
      Buffer.from(JSON.parse(answered.stdout).response.clientDataJSON, 'base64url').toString(),
    );
    expect(clientData).toMatchObject({ type: 'webauthn.get', origin: 'https://login.examp1e.com' });
  });

  it('says what is wrong, on stderr only, for a key file without a key or options that are none', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tf-soft-key-'));
    writeFileSync(join(folder, 'empty.key'), '[]');
    for (const args of [
      ['answer', join(folder, 'empty.key'), '{"challenge":"abc"}'],
      ['answer', join(folder, 'missing.key'), '{"challenge":"abc"}'],
      ['register', join(folder, 'new.key'), 'not json'],
      ['register', join(folder, 'new.key'), '{"data":{}}'],
      ['sign', join(folder, 'new.key'), '{"challenge":"abc"}'],
    ]) {
      const result = softKey(args);
      expect({ args, status: result.status, stdout: result.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(result.stderr).toContain('usage: npm run -s webauthn --');
    }
  });
});

describe('test/support/soft-authenticator.ts', () => {
  // Node 24 runs TypeScript itself; a script driving the test suite's authenticator
  // imports the package as ESM, where its default export is the module object.
  it('works from a plain Node script too, not only under jest', () => {
    const result = spawnSync(
      process.execPath,
      [
        '--no-warnings',
        '--input-type=module',
        '-e',
        `import { SoftAuthenticator } from './test/support/soft-authenticator.ts';
         const key = new SoftAuthenticator();
         const response = key.register({
           challenge: 'AAAAAAAAAAAAAAAAAAAAAA', rp: { id: 'localhost', name: 'TwoFactor' },
           user: { id: 'dXNlcg', name: 'dana', displayName: 'dana' },
           pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
         }, { origin: '${ORIGIN}' });
         console.log(key.credentialIds()[0] === response.id);`,
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8' },
    );
    expect({ stderr: result.stderr, stdout: result.stdout }).toEqual({ stderr: '', stdout: 'true\n' });
  });
});
