import { createHash, createPrivateKey, KeyObject, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import {
  AuthenticatorEmulator,
  PasskeysCredentialsMemoryRepository,
  RpId,
  packAuthenticatorData,
  WebAuthnEmulator,
  type PasskeyDiscoverableCredential,
} from 'nid-webauthn-emulator';
import type { TestAuthenticatorModel } from './metadata-ca';

/**
 * A software security key of a chosen model that attests: built on
 * nid-webauthn-emulator, which makes the credential (its key pair, credential
 * id, the authenticator data with the model's AAGUID) and keeps it, but only
 * ever answers attestation `none`. The statement is then added here, with the
 * CBOR codec of @simplewebauthn/server (the one the service decodes with) and
 * node:crypto for the signature:
 *
 * - `packed`: signed with the model's attestation key, x5c = its attestation
 *   certificate (issued from the model's root, carrying the AAGUID extension);
 * - `self`: packed without x5c, signed with the credential's own key;
 * - `none`: as the emulator made it.
 *
 * `deviceBound` clears the backup-eligible and backed-up flags (a security
 * key); otherwise both are set (a synced passkey), as the emulator sets them.
 * Assertions are signed here too, with the same flags, so a device-bound key
 * stays device-bound when it signs in.
 */

export type AttestationKind = 'packed' | 'self' | 'none';

export interface AttestingAuthenticatorOptions {
  attestation?: AttestationKind;
  deviceBound?: boolean;
  /** Certificates sent after the attestation certificate in x5c (default none). */
  intermediates?: Uint8Array[];
}

const FLAG = { userPresent: 0x01, userVerified: 0x04, backupEligible: 0x08, backedUp: 0x10 } as const;
const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const fromB64u = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));
const idOf = (credential: PasskeyDiscoverableCredential) =>
  b64u(new Uint8Array(credential.publicKeyCredentialDescriptor.id as ArrayBuffer));

export class AttestingAuthenticator {
  private readonly repository = new PasskeysCredentialsMemoryRepository();
  private readonly emulator: WebAuthnEmulator;
  readonly attestation: AttestationKind;
  readonly deviceBound: boolean;
  private signCount = 0;

  constructor(
    /** The model it claims to be (its AAGUID and attestation key); null: an all-zero AAGUID. */
    readonly model: TestAuthenticatorModel | null,
    private readonly options: AttestingAuthenticatorOptions = {},
  ) {
    this.attestation = options.attestation ?? 'packed';
    this.deviceBound = options.deviceBound ?? true;
    const interact = () => ({ options: { uv: true, up: true } });
    const aaguid = new Uint8Array(16);
    if (model) aaguid.set(Buffer.from(model.aaguid.replace(/-/g, ''), 'hex'));
    this.emulator = new WebAuthnEmulator(
      new AuthenticatorEmulator({
        aaguid,
        algorithmIdentifiers: ['ES256'],
        transports: ['usb'] as never,
        signCounterIncrement: 1,
        verifications: { userPresent: true, userVerified: true },
        credentialsRepository: this.repository,
        userMakeCredentialInteraction: interact,
        userGetAssertionInteraction: interact,
      }),
    );
  }

  /**
   * navigator.credentials.create() from `origin`: a new credential, attested as
   * this authenticator does (the same call as SoftAuthenticator's, so tests can take either).
   */
  async register(
    options: PublicKeyCredentialCreationOptionsJSON,
    { origin }: { origin: string },
  ): Promise<RegistrationResponseJSON> {
    const made = this.emulator.createJSON(origin, options as never, [origin]) as unknown as RegistrationResponseJSON;
    const decoded = isoCBOR.decodeFirst(fromB64u(made.response.attestationObject)) as Map<string, unknown>;
    const authData = Buffer.from(decoded.get('authData') as Uint8Array);
    authData[32] = this.flags(authData[32]);
    const signed = Buffer.concat([
      authData,
      createHash('sha256').update(fromB64u(made.response.clientDataJSON)).digest(),
    ]);
    const statement = new Map<string, unknown>();
    if (this.attestation === 'packed') {
      if (!this.model) throw new Error('packed attestation needs a model (its attestation key)');
      statement.set('alg', -7);
      statement.set(
        'sig',
        new Uint8Array(sign('sha256', signed, KeyObject.from(this.model.attestation.keys.privateKey))),
      );
      statement.set('x5c', [
        new Uint8Array(this.model.attestation.certificate.rawData),
        ...(this.options.intermediates ?? []),
      ]);
    } else if (this.attestation === 'self') {
      statement.set('alg', -7);
      statement.set('sig', new Uint8Array(sign('sha256', signed, this.privateKey(made.id))));
    }
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', this.attestation === 'none' ? 'none' : 'packed'],
        ['attStmt', statement],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    return { ...made, response: { ...made.response, attestationObject: b64u(attestationObject) } };
  }

  /** navigator.credentials.get() with the credential it holds, from `origin`. */
  authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    { origin }: { origin: string },
  ): AuthenticationResponseJSON {
    const credential = this.credential();
    this.signCount += 1;
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.get',
      challenge: options.challenge,
      origin,
      crossOrigin: false,
    });
    const authenticatorData = packAuthenticatorData({
      rpIdHash: new RpId(options.rpId ?? new URL(origin).hostname).hash,
      flags: {
        userPresent: true,
        userVerified: true,
        backupEligibility: !this.deviceBound,
        backupState: !this.deviceBound,
      },
      signCount: this.signCount,
    });
    const signature = sign(
      null,
      Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]),
      this.privateKey(idOf(credential)),
    );
    const id = idOf(credential);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(signature),
        userHandle: b64u(new Uint8Array(credential.user.id as ArrayBuffer)),
      },
      clientExtensionResults: {},
    };
  }

  private flags(flags: number): number {
    const cleared = flags & ~(FLAG.backupEligible | FLAG.backedUp);
    return this.deviceBound ? cleared : cleared | FLAG.backupEligible | FLAG.backedUp;
  }

  private credential(id?: string): PasskeyDiscoverableCredential {
    const credentials = this.repository.loadCredentials().filter((credential) => !id || idOf(credential) === id);
    const credential = credentials[credentials.length - 1];
    if (!credential) throw new Error('this authenticator holds no such credential');
    return credential;
  }

  private privateKey(credentialId: string) {
    return createPrivateKey({
      key: Buffer.from(new Uint8Array(this.credential(credentialId).publicKeyCredentialSource.privateKey)),
      format: 'der',
      type: 'pkcs8',
    });
  }
}
