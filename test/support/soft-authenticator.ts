import { createHash, createPrivateKey, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
// The named export, not the default: imported as ESM (a Node script runs this file
// itself), the package's default export is its whole CommonJS module object.
import {
  AuthenticatorEmulator,
  PasskeysCredentialsMemoryRepository,
  RpId,
  packAuthenticatorData,
  WebAuthnEmulator,
  type PasskeyDiscoverableCredential,
} from 'nid-webauthn-emulator';

/**
 * A software security key / passkey for tests, on nid-webauthn-emulator: it
 * answers PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON with the
 * RegistrationResponseJSON / AuthenticationResponseJSON a browser would send.
 *
 * Each instance is an independent authenticator (its own key store: the
 * emulator's default store is shared by every instance, so it is never used).
 * It plays the browser too, and a browser that does what it is told: the
 * knobs let it answer for another origin, RP id or challenge, without user
 * presence or verification, with a chosen signature counter or a broken
 * signature, so that the server's checks are what the tests exercise.
 *
 * Registration goes through the emulator (attestation `none`, real CBOR and
 * COSE). Assertions go through the emulator as well, except when a counter or
 * another RP id or cross-origin client data is asked for: the emulator can
 * neither set a counter nor sign for an RP id its credential was not made for, so the authenticator data is
 * then built with the emulator's packAuthenticatorData and signed with
 * node:crypto using the credential's private key from this instance's store.
 */

export type SoftAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

export interface SoftAuthenticatorOptions {
  /** The algorithm of the keys it makes (default ES256). */
  algorithm?: SoftAlgorithm;
  /** Reported at registration (default ['usb']). */
  transports?: string[];
  /** Whether it verifies its user (PIN, biometrics); default true. */
  userVerified?: boolean;
  /** Added to the signature counter at each assertion (default 1; 0 for a passkey that never counts). */
  signCounterIncrement?: number;
}

export interface CeremonyKnobs {
  /** The origin the "browser" puts in clientDataJSON. */
  origin: string;
  /** Use this RP id instead of the options' (its hash goes into the authenticator data). */
  rpId?: string;
  /** Answer this challenge instead of the options'. */
  challenge?: string;
  /** Override the user verification flag for this ceremony. */
  userVerified?: boolean;
  /** The user presence flag (default true). */
  userPresent?: boolean;
}

export interface AssertionKnobs extends CeremonyKnobs {
  /** Report exactly this signature counter (and remember it as the authenticator's). */
  counter?: number;
  /** Flip a bit of the signature. */
  tamperSignature?: boolean;
  /** Written into clientDataJSON (signed): an answer made inside another origin's frame. */
  crossOrigin?: boolean;
  topOrigin?: string;
}

const toBase64Url = (bytes: Uint8Array | ArrayBuffer | string) =>
  (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes as Uint8Array)).toString('base64url');

const idOf = (credential: PasskeyDiscoverableCredential) =>
  toBase64Url(new Uint8Array(credential.publicKeyCredentialDescriptor.id as ArrayBuffer));

export class SoftAuthenticator {
  private readonly repository = new PasskeysCredentialsMemoryRepository();
  private readonly emulator: WebAuthnEmulator;
  private readonly userVerifies: boolean;
  private interaction = { uv: true, up: true };

  constructor(options: SoftAuthenticatorOptions = {}) {
    this.userVerifies = options.userVerified ?? true;
    const interact = () => ({ options: { ...this.interaction } });
    this.emulator = new WebAuthnEmulator(
      new AuthenticatorEmulator({
        algorithmIdentifiers: [options.algorithm ?? 'ES256'],
        transports: (options.transports ?? ['usb']) as never,
        signCounterIncrement: options.signCounterIncrement ?? 1,
        verifications: { userPresent: true, userVerified: this.userVerifies },
        credentialsRepository: this.repository,
        userMakeCredentialInteraction: interact,
        userGetAssertionInteraction: interact,
      }),
    );
  }

  /** navigator.credentials.create(): a new credential, kept by this authenticator. */
  register(options: PublicKeyCredentialCreationOptionsJSON, knobs: CeremonyKnobs): RegistrationResponseJSON {
    this.interaction = { uv: knobs.userVerified ?? this.userVerifies, up: knobs.userPresent ?? true };
    const creation = {
      ...options,
      rp: { ...options.rp, id: knobs.rpId ?? options.rp.id },
      challenge: knobs.challenge ?? options.challenge,
    };
    // relatedOrigins [origin]: the emulator then accepts any origin for any RP id (a browser would not).
    return this.emulator.createJSON(knobs.origin, creation as never, [
      knobs.origin,
    ]) as unknown as RegistrationResponseJSON;
  }

  /** navigator.credentials.get() with one of this authenticator's credentials named in allowCredentials. */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, knobs: AssertionKnobs): AuthenticationResponseJSON {
    this.interaction = { uv: knobs.userVerified ?? this.userVerifies, up: knobs.userPresent ?? true };
    const request = { ...options, challenge: knobs.challenge ?? options.challenge };
    const response =
      knobs.counter === undefined &&
      knobs.rpId === undefined &&
      knobs.crossOrigin === undefined &&
      knobs.topOrigin === undefined
        ? (this.emulator.getJSON(knobs.origin, request as never, [
            knobs.origin,
          ]) as unknown as AuthenticationResponseJSON)
        : this.signAssertion(request, knobs);
    if (!knobs.tamperSignature) return response;
    const signature = Buffer.from(response.response.signature, 'base64url');
    signature[signature.length - 1] ^= 0x01;
    return { ...response, response: { ...response.response, signature: signature.toString('base64url') } };
  }

  /** The ids (base64url) of the credentials it holds. */
  credentialIds(): string[] {
    return this.repository.loadCredentials().map(idOf);
  }

  /** The signature counter it holds for a credential (the only one when not named). */
  signCount(credentialId?: string): number {
    return this.credential(credentialId ? [credentialId] : []).authenticatorData.signCount;
  }

  private credential(allowed: readonly string[]): PasskeyDiscoverableCredential {
    const candidates = this.repository
      .loadCredentials()
      .filter((credential) => allowed.length === 0 || allowed.includes(idOf(credential)));
    // As the emulator: the last one that matches.
    const credential = candidates[candidates.length - 1];
    if (!credential) throw new Error('this soft authenticator holds none of the credentials asked for');
    return credential;
  }

  private signAssertion(
    request: PublicKeyCredentialRequestOptionsJSON,
    knobs: AssertionKnobs,
  ): AuthenticationResponseJSON {
    const credential = this.credential((request.allowCredentials ?? []).map((descriptor) => descriptor.id));
    const rpId = knobs.rpId ?? request.rpId ?? new URL(knobs.origin).hostname;
    const counter = knobs.counter ?? credential.authenticatorData.signCount + 1;
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.get',
      challenge: request.challenge,
      origin: knobs.origin,
      crossOrigin: knobs.crossOrigin ?? false,
      ...(knobs.topOrigin !== undefined ? { topOrigin: knobs.topOrigin } : {}),
    });
    const authenticatorData = packAuthenticatorData({
      rpIdHash: new RpId(rpId).hash,
      // Backup flags as the emulator sets them for the credentials it stores.
      flags: {
        userPresent: this.interaction.up,
        userVerified: this.interaction.uv,
        backupEligibility: true,
        backupState: true,
      },
      signCount: counter,
    });
    const privateKey = createPrivateKey({
      key: Buffer.from(new Uint8Array(credential.publicKeyCredentialSource.privateKey)),
      format: 'der',
      type: 'pkcs8',
    });
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]);
    const signature = sign(null, signed, privateKey);
    this.repository.deleteCredential(credential);
    this.repository.saveCredential({
      ...credential,
      authenticatorData: { ...credential.authenticatorData, signCount: counter },
    });
    const id = idOf(credential);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: toBase64Url(clientDataJSON),
        authenticatorData: toBase64Url(authenticatorData),
        signature: toBase64Url(signature),
        userHandle: toBase64Url(new Uint8Array(credential.user.id as ArrayBuffer)),
      },
      clientExtensionResults: {},
    };
  }
}
