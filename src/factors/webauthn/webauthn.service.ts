import type { Answer } from '../../attempts/second-factor';
import type { StepUp } from '../../attempts/step-up';
import type { AuditLog } from '../../audit/audit-log';
import { type AttestationVerifier, type ModelCatalog, withoutAttestation } from '../../authenticators';
import type { Actor, Caller } from '../../callers/caller';
import { AppError, badInput } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Database } from '../../infra/db/database';
import { LIMITS } from '../../limits';
import type { KeyKind } from '../../organizations/key-sets';
import { parsePlainText } from '../../plain-text';
import { TwoFactorMethod } from '../../users/two-factor-method';
import type { TwoFactorStatus } from '../../users/user.types';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorService } from '../two-factor.service';
import type { TwoFactorSetupResult } from '../two-factor.types';
import type { WebAuthnChallengeStore } from './webauthn-challenge-store';
import type { WebAuthnCredentialRecord } from './webauthn-credential.entity';
import type { WebAuthnCredentialRepository } from './webauthn-credential.repository';
import { parseWebAuthnJson } from './webauthn-json';
import { WEBAUTHN_CREDENTIAL_ID_MAX_CHARS } from './webauthn-limits';
import type { RegistrationVerification, WebAuthnRelyingParty } from './webauthn-relying-party';
import { type WebAuthnFactor, webAuthnUserHandle } from './webauthn.factor';
import { WebAuthnChallenge, WebAuthnCredential, WebAuthnRegistration } from './webauthn.types';

/** What registration and the credential list ask of the authenticator policies (OrganizationService). */
export interface KeyPolicies {
  wantsAttestation(userId: string): Promise<boolean>;
  keyAcceptance(userIds: readonly string[]): Promise<Map<string, (kind: KeyKind) => boolean>>;
}

export interface WebAuthnServiceDependencies {
  /** A registration's attestation, verified against the loaded Metadata Service blob. */
  attestation: Pick<AttestationVerifier, 'verify'>;
  /** The loaded blob's models, by AAGUID (names). */
  models: { readonly current: Pick<ModelCatalog, 'model'> };
  policies: () => KeyPolicies;
  database: Database;
  credentials: WebAuthnCredentialRepository;
  challenges: WebAuthnChallengeStore;
  relyingParty: () => WebAuthnRelyingParty;
  factor: WebAuthnFactor;
  setup: FactorSetup;
  stepUp: StepUp;
  twoFactor: TwoFactorService;
  keyHash: StoreKeyHash;
  audit: AuditLog;
  clock: Clock;
}

type Registered = Extract<RegistrationVerification, { ok: true }>;

/** Registering, naming, using and removing security keys and passkeys. */
export class WebAuthnService {
  constructor(private readonly deps: WebAuthnServiceDependencies) {}

  /** Options for navigator.credentials.create(); nothing changes until confirmed. */
  async startRegistration(caller: Caller, actor: Actor, stepUp: Answer): Promise<WebAuthnRegistration> {
    const relyingParty = this.deps.relyingParty();
    const userId = caller.subject;
    const existing = await this.credentialsOf(userId);
    if (existing.length >= LIMITS.webAuthnCredentialsPerUser) throw tooMany();
    const options = await relyingParty.registrationOptions({
      // Attestation only where a policy may judge it (contract "Authenticators"); a statement is verified whatever was asked.
      attestation: (await this.deps.policies().wantsAttestation(userId)) ? 'direct' : 'none',
      userHandle: this.userHandle(userId),
      userName: userId,
      excludeCredentials: existing.map((credential) => ({
        id: credential.id,
        transports: splitTransports(credential.transports),
      })),
    });
    const expiresAt = await this.deps.setup.start(caller, actor, stepUp, {
      method: TwoFactorMethod.WEBAUTHN,
      secret: options.challenge,
      ttlSeconds: LIMITS.webAuthnCeremonySeconds,
    });
    return Object.assign(new WebAuthnRegistration(), { options, expiresAt });
  }

  /** The authenticator's RegistrationResponseJSON; the first factor turns two-factor on. */
  async confirmRegistration(
    caller: Caller,
    actor: Actor,
    response: unknown,
    name: string | null | undefined,
  ): Promise<TwoFactorSetupResult> {
    const relyingParty = this.deps.relyingParty();
    const parsed = parseWebAuthnJson(response, 'registration');
    if (!parsed.ok) throw badInput(`response is not a WebAuthn registration response: ${parsed.reason}`, 'response');
    // A broken or weak key is refused as input, before an attempt is counted (contract "WebAuthn").
    const keyProblem = relyingParty.credentialKeyProblem(parsed.value);
    if (keyProblem) throw badInput(`response: ${keyProblem}.`, 'response');
    const given = name === null || name === undefined ? null : parsePlainText(name, 'name', 64);
    const { credentials } = this.deps;
    let registered: Registered | undefined;
    let attestation: { aaguid: string; attested: boolean; deviceBound: boolean } | undefined;
    return this.deps.setup.confirm(
      caller,
      actor,
      { webAuthn: parsed.value },
      {
        factor: this.deps.factor,
        accepts: (answer) => answer.webAuthn !== undefined,
        verify: async ({ manager, answer }, challenge) => {
          let result = await relyingParty.verifyRegistration(answer.webAuthn, challenge);
          let statementFailed = false;
          if (!result.ok && result.reason === 'invalid') {
            // A statement that does not verify: the key registers as unattested (contract "Authenticators").
            const stripped = stripStatement(answer.webAuthn);
            if (stripped) {
              const again = await relyingParty.verifyRegistration(stripped, challenge);
              if (again.ok) [result, statementFailed] = [again, true];
            }
          }
          // A credential id that any user has already is no new credential.
          if (!result.ok || (await credentials.exists(manager, result.credentialId))) return false;
          registered = result;
          attestation = statementFailed
            ? { aaguid: result.aaguid ?? ZERO_AAGUID, attested: false, deviceBound: !result.backupEligible }
            : await this.deps.attestation.verify(answer.webAuthn);
          return true;
        },
        bind: async (manager, pending, now) => {
          const count = await credentials.count(manager, pending.userId);
          if (count >= LIMITS.webAuthnCredentialsPerUser) throw tooMany();
          await credentials.insert(manager, {
            id: registered!.credentialId,
            userId: pending.userId,
            publicKey: Buffer.from(registered!.publicKey).toString('base64url'),
            signCount: registered!.counter,
            transports: registered!.transports.join(','),
            backupEligible: registered!.backupEligible,
            backedUp: registered!.backedUp,
            aaguid: attestation!.aaguid,
            attested: attestation!.attested,
            deviceBound: attestation!.deviceBound,
            name: given ?? `Security key ${count + 1}`,
            createdAt: now,
            lastUsedAt: null,
          });
        },
      },
    );
  }

  /** Options for a step-up answer (`webAuthn` of the step-up mutations). */
  async startStepUp(caller: Caller): Promise<WebAuthnChallenge> {
    const relyingParty = this.deps.relyingParty();
    const userId = caller.subject;
    const existing = await this.credentialsOf(userId);
    if (existing.length === 0) throw new AppError('NOT_ENROLLED', 'No security key or passkey is set up.');
    const expiresAt = new Date(this.deps.clock.now().getTime() + LIMITS.webAuthnCeremonySeconds * 1000);
    const options = await relyingParty.authenticationOptions({ allowCredentials: descriptors(existing) });
    await this.deps.challenges.put({ kind: 'step-up', userId }, options.challenge, expiresAt);
    return Object.assign(new WebAuthnChallenge(), { options, expiresAt });
  }

  /** Options bound to one login challenge, when its user has credentials and WebAuthn is on; else null. */
  async loginOptions(challenge: { id: string; userId: string; expiresAt: Date }): Promise<unknown> {
    let relyingParty: WebAuthnRelyingParty;
    try {
      relyingParty = this.deps.relyingParty();
    } catch {
      return null;
    }
    const existing = await this.credentialsOf(challenge.userId);
    if (existing.length === 0) return null;
    const options = await relyingParty.authenticationOptions({ allowCredentials: descriptors(existing) });
    const purpose = { kind: 'login' as const, userId: challenge.userId, challengeId: challenge.id };
    await this.deps.challenges.put(purpose, options.challenge, challenge.expiresAt);
    return options;
  }

  async rename(actor: Actor, userId: string, id: string, name: string): Promise<WebAuthnCredential> {
    parseCredentialId(id);
    const text = parsePlainText(name, 'name', 64);
    const { database, credentials, audit, clock } = this.deps;
    const renamed = await database.transaction(async (manager) => {
      if (!(await credentials.rename(manager, userId, id, text))) return null;
      await audit.record(manager, actor, { action: 'WEBAUTHN_CREDENTIAL_RENAMED', userId }, clock.now());
      return credentials.find(manager, userId, id);
    });
    if (!renamed) throw notFound();
    return (await this.views([renamed]))[0];
  }

  /** The credentials as callers see them: each with its model's name and whether the user's organizations accept it. */
  async views(records: readonly WebAuthnCredentialRecord[]): Promise<WebAuthnCredential[]> {
    if (records.length === 0) return [];
    const acceptance = await this.deps.policies().keyAcceptance(records.map((record) => record.userId));
    const catalog = this.deps.models.current;
    return records.map((record) =>
      WebAuthnCredential.of(record, {
        authenticatorName: catalog.model(record.aaguid)?.name ?? null,
        accepted: acceptance.get(record.userId)?.(record) ?? false,
      }),
    );
  }

  /** Behind a step-up; the last credential follows the same rules as the last factor, and the phishing-resistant policy. */
  async remove(actor: Actor, userId: string, id: string, stepUp: Answer): Promise<TwoFactorStatus> {
    parseCredentialId(id);
    const found = await this.deps.database.run((manager) => this.deps.credentials.find(manager, userId, id));
    if (!found) throw notFound();
    return this.deps.twoFactor.removeFactor(actor, userId, stepUp, TwoFactorMethod.WEBAUTHN, id);
  }

  list(userIds: readonly string[]): Promise<WebAuthnCredentialRecord[]> {
    return this.deps.database.run((manager) => this.deps.credentials.listMany(manager, userIds));
  }

  private credentialsOf(userId: string): Promise<WebAuthnCredentialRecord[]> {
    return this.deps.database.run((manager) => this.deps.credentials.list(manager, userId));
  }

  /** An opaque, stable handle per user (the authenticator keeps it; it never names the user). */
  private userHandle(userId: string): Uint8Array {
    return webAuthnUserHandle(this.deps.keyHash, userId);
  }
}

/** The response with its attestation statement dropped (`none`); null when it cannot be read. */
function stripStatement(response: unknown): unknown {
  try {
    return withoutAttestation(response as Parameters<typeof withoutAttestation>[0]);
  } catch {
    return null;
  }
}

const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';
const splitTransports = (transports: string) => (transports ? transports.split(',') : []);
const descriptors = (credentials: WebAuthnCredentialRecord[]) =>
  credentials.map((credential) => ({ id: credential.id, transports: splitTransports(credential.transports) }));
const tooMany = () =>
  badInput(`A user may have at most ${LIMITS.webAuthnCredentialsPerUser} security keys and passkeys.`, 'webAuthn');
/** A credential id as stored: base64url, at most as long as the column. */
function parseCredentialId(id: unknown): string {
  if (typeof id === 'string' && /^[A-Za-z0-9_-]+$/.test(id) && id.length <= WEBAUTHN_CREDENTIAL_ID_MAX_CHARS) return id;
  throw badInput('id is not the id of a security key (base64url).', 'id');
}

const notFound = () => new AppError('NOT_FOUND', 'No security key or passkey of yours has this id.');
