import type { EntityManager } from 'typeorm';
import type { AuditLog } from '../../audit/audit-log';
import { badInput } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Logger } from '../../infra/logger';
import type { Accepted, Answer, AnswerPurpose, Enrollment, SecondFactor } from '../factor';
import { TwoFactorMethod } from '../method';
import type { WebAuthnChallengeStore } from './webauthn-challenge-store';
import type { WebAuthnCredentialRepository } from './webauthn-credential.repository';
import { parseWebAuthnJson } from './webauthn-json';
import type { WebAuthnRelyingParty } from './webauthn-relying-party';

export interface WebAuthnFactorDependencies {
  credentials: WebAuthnCredentialRepository;
  challenges: WebAuthnChallengeStore;
  /** The relying party, or FORBIDDEN when WebAuthn is not configured. */
  relyingParty: () => WebAuthnRelyingParty;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** Names the user's WebAuthn user handle (webAuthnUserHandle). */
  keyHash: StoreKeyHash;
  /** The user's phishing-resistance changed with its credentials (organizations' copies, their rule). */
  phishingResistanceChanged: (
    manager: EntityManager,
    userId: string,
    hasCredentials: boolean,
    enforce: boolean,
  ) => Promise<void>;
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
  readonly enrollment: Enrollment;

  constructor(private readonly deps: WebAuthnFactorDependencies) {
    const { credentials } = deps;
    this.enrollment = {
      method: TwoFactorMethod.WEBAUTHN,
      noun: 'security key',
      enabledAction: 'WEBAUTHN_CREDENTIAL_ADDED',
      removedAction: 'WEBAUTHN_CREDENTIAL_REMOVED',
      count: (manager, userId) => credentials.count(manager, userId),
      removeAll: (manager, userId) => credentials.deleteAll(manager, userId),
      removeOne: (manager, userId, id) => credentials.delete(manager, userId, id),
      afterChange: async (manager, userId, { enforce }) =>
        deps.phishingResistanceChanged(manager, userId, (await credentials.count(manager, userId)) > 0, enforce),
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

  async verify(
    manager: EntityManager,
    userId: string,
    { webAuthn }: Answer,
    purpose: AnswerPurpose,
  ): Promise<Accepted | null> {
    if (purpose.kind === 'setup' || webAuthn === undefined) return null;
    const { credentials, challenges, audit, clock } = this.deps;
    const parsed = parseWebAuthnJson(webAuthn, 'authentication');
    const challenge = await challenges.get(purpose);
    if (!parsed.ok || !challenge) return null;
    const credential = await credentials.find(manager, userId, parsed.value.id);
    if (!credential) return null;
    const result = await this.deps.relyingParty().verifyAuthentication(parsed.value, challenge, {
      id: credential.id,
      publicKey: Buffer.from(credential.publicKey, 'base64url'),
      counter: credential.signCount,
      transports: credential.transports ? credential.transports.split(',') : [],
      // A passkey's answer names its user: when it does, it must be this user (contract "WebAuthn").
      userHandle: webAuthnUserHandle(this.deps.keyHash, userId),
    });
    const now = clock.now();
    if (!result.ok) {
      if (result.reason === 'counter') {
        // Committed with the failure: the answer checker's transaction is not rolled back for a wrong answer.
        const reason = `credential ${credential.id.slice(0, 16)}…: counter ${result.receivedCounter} after ${result.storedCounter}`;
        await audit.record(
          manager,
          { actorId: userId, clientIp: null },
          { action: 'WEBAUTHN_CLONE_SUSPECTED', userId, reason },
          now,
        );
        this.deps.logger.warn({ userId }, 'a WebAuthn signature counter did not grow: possibly a cloned authenticator');
      }
      return null;
    }
    if (!(await credentials.recordUse(manager, credential.id, credential.signCount, result.newCounter, now)))
      return null;
    // Single use: of two right answers racing, the one that spends the challenge wins.
    if (!(await challenges.spend(purpose))) return null;
    return { amr: result.userVerified ? ['hwk', 'user'] : ['hwk'] };
  }

  async recordUse(): Promise<void> {
    // verify() recorded the use with the counter, in the same conditional UPDATE.
  }
}
