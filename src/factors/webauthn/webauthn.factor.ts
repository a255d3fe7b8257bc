import type { EntityManager } from 'typeorm';
import type {
  CaepCredentialType,
  Accepted,
  Answer,
  AnswerPurpose,
  Enrollment,
  FactorCheck,
  SecondFactor,
} from '../../attempts/second-factor';
import type { AuditLog } from '../../audit/audit-log';
import { badInput } from '../../errors';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Logger } from '../../infra/logger';
import type { KeyKind } from '../../organizations/key-sets';
import { TwoFactorMethod } from '../../users/two-factor-method';
import type { WebAuthnChallengeStore } from './webauthn-challenge-store';
import type { WebAuthnCredentialRepository } from './webauthn-credential.repository';
import { WEBAUTHN_STATUS } from './webauthn-credential.repository';
import { parseWebAuthnJson } from './webauthn-json';
import type { WebAuthnRelyingParty } from './webauthn-relying-party';

export interface WebAuthnFactorDependencies {
  credentials: WebAuthnCredentialRepository;
  challenges: WebAuthnChallengeStore;
  /** The relying party, or FORBIDDEN when WebAuthn is not configured. */
  relyingParty: () => WebAuthnRelyingParty;
  audit: AuditLog;
  logger: Logger;
  /** Names the user's WebAuthn user handle (webAuthnUserHandle). */
  keyHash: StoreKeyHash;
  /** The user's keys changed (the kinds of every credential now: organizations' copies, their rule). */
  keysChanged: (manager: EntityManager, userId: string, kinds: KeyKind[], enforce: boolean) => Promise<void>;
}

/**
 * The user's opaque, stable WebAuthn user handle (`user.id` at registration;
 * authenticators hand it back as `userHandle`): a keyed hash, so it never names the user.
 */
export function webAuthnUserHandle(keyHash: StoreKeyHash, userId: string): Uint8Array {
  return Buffer.from(keyHash.of('webauthn-user-handle', userId), 'utf8');
}

/**
 * A security key or passkey answering the challenge issued for exactly this
 * purpose (startWebAuthnStepUp, or LoginChallenge.webAuthnOptions). Phishing
 * resistant: the browser binds the answer to our origin. The lock does not
 * refuse it. A counter that does not grow is refused and audited as a possible clone.
 */
export class WebAuthnFactor implements SecondFactor {
  readonly method = TwoFactorMethod.WEBAUTHN;
  readonly refusedWhenLocked = false;
  readonly phishingResistant = true;
  readonly enrollment: Enrollment;
  readonly statusPart = WEBAUTHN_STATUS;

  constructor(private readonly deps: WebAuthnFactorDependencies) {
    const { credentials } = deps;
    this.enrollment = {
      method: TwoFactorMethod.WEBAUTHN,
      noun: 'security key',
      enabledAction: 'WEBAUTHN_CREDENTIAL_ADDED',
      removedAction: 'WEBAUTHN_CREDENTIAL_REMOVED',
      count: (manager, userId) => credentials.count(manager, userId),
      credentials: async (manager, userId) =>
        (await credentials.list(manager, userId)).map((one) => ({ id: one.id, type: caepCredentialType(one) })),
      removeAll: (manager, userId) => credentials.deleteAll(manager, userId),
      removeOne: (manager, userId, id) => credentials.delete(manager, userId, id),
      afterChange: async (manager, userId, { enforce }) =>
        deps.keysChanged(
          manager,
          userId,
          (await credentials.list(manager, userId)).map(({ aaguid, attested, deviceBound }) => ({
            aaguid,
            attested,
            deviceBound,
          })),
          enforce,
        ),
    };
  }

  accepts({ webAuthn }: Answer): boolean {
    return webAuthn !== undefined;
  }

  validate({ webAuthn }: Answer): void {
    if (webAuthn === undefined) return;
    this.deps.relyingParty();
    const parsed = parseWebAuthnJson(webAuthn, 'authentication');
    if (!parsed.ok) throw badInput(`webAuthn is not a WebAuthn authentication response: ${parsed.reason}`, 'webAuthn');
  }

  reads(userId: string, { webAuthn }: Answer, purpose: AnswerPurpose) {
    if (purpose.kind === 'setup' || webAuthn === undefined) return [];
    const parsed = parseWebAuthnJson(webAuthn, 'authentication');
    return parsed.ok ? [this.deps.credentials.credentialRead(userId, parsed.value.id)] : [];
  }

  async verify({ manager, user, answer: { webAuthn }, purpose, rows, now }: FactorCheck): Promise<Accepted | null> {
    if (purpose.kind === 'setup' || webAuthn === undefined || rows.length === 0) return null;
    const { credentials, challenges, audit } = this.deps;
    const parsed = parseWebAuthnJson(webAuthn, 'authentication');
    const credential = credentials.credentialOf(rows[0]);
    if (!parsed.ok || !credential) return null;
    const challenge = await challenges.get(purpose);
    if (!challenge) return null;
    const result = await this.deps.relyingParty().verifyAuthentication(parsed.value, challenge, {
      id: credential.id,
      publicKey: Buffer.from(credential.publicKey, 'base64url'),
      counter: credential.signCount,
      transports: credential.transports ? credential.transports.split(',') : [],
      // A passkey's answer names its user: when it does, it must be this user (contract "WebAuthn").
      userHandle: webAuthnUserHandle(this.deps.keyHash, user.id),
    });
    if (!result.ok) {
      if (result.reason === 'counter') {
        // Committed with the failure: the answer checker's transaction is not rolled back for a wrong answer.
        const reason = `credential ${credential.id.slice(0, 16)}…: counter ${result.receivedCounter} after ${result.storedCounter}`;
        await audit.record(
          manager,
          { actorId: user.id, clientIp: null },
          { action: 'WEBAUTHN_CLONE_SUSPECTED', userId: user.id, reason },
          now,
        );
        this.deps.logger.warn(
          { userId: user.id },
          'a WebAuthn signature counter did not grow: possibly a cloned authenticator',
        );
      }
      return null;
    }
    // Single use: of two right answers racing, the one that spends the challenge wins.
    if (!(await challenges.spend(purpose))) return null;
    await credentials.recordUse(manager, credential.id, result.newCounter, now);
    // How strong: a device-bound key (its flag as registered) is `phrh`, any other key `phr`.
    return { amr: result.userVerified ? ['hwk', 'user'] : ['hwk'], acr: credential.deviceBound ? 'phrh' : 'phr' };
  }
}

/**
 * CAEP 1.0's name for a security key or passkey: `fido2-platform` when the
 * authenticator said it is built into the device (transport `internal`),
 * `fido2-roaming` otherwise (a key, or a phone reached over `hybrid`).
 */
function caepCredentialType(credential: { transports: string }): CaepCredentialType {
  return credential.transports.split(',').includes('internal') ? 'fido2-platform' : 'fido2-roaming';
}
