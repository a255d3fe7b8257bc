import type { StepUp } from '../../attempts/step-up';
import type { AuditLog } from '../../audit/audit-log';
import type { AttestationVerifier, ModelRegistry } from '../../authenticators';
import type { Config } from '../../config/config';
import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Database } from '../../infra/db/database';
import type { Logger } from '../../infra/logger';
import type { Store } from '../../infra/store/store';
import type { FactorModule } from '../factor-module';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorLifecycle } from '../two-factor-lifecycle';
import type { TwoFactorService } from '../two-factor.service';
import { WebAuthnCredentials1796185116208 } from './migrations/1796185116208-WebAuthnCredentials';
import { CredentialAttestation1796685498080 } from './migrations/1796685498080-CredentialAttestation';
import { WEBAUTHN_SIGNALS } from './signals';
import { WebAuthnChallengeStore } from './webauthn-challenge-store';
import { WebAuthnCredentialRecord } from './webauthn-credential.entity';
import { WebAuthnCredentialRepository } from './webauthn-credential.repository';
import { WebAuthnRelyingParty } from './webauthn-relying-party';
import { WebAuthnFactor } from './webauthn.factor';
import { WebAuthnLoginResolver, WebAuthnResolver, WebAuthnStatusResolver } from './webauthn.resolver';
import { type KeyPolicies, WebAuthnService } from './webauthn.service';

interface WebAuthnNeeds {
  config: Pick<Config, 'webAuthn'>;
  database: Database;
  store: Store;
  storeKeys: StoreKeyHash;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  setup: FactorSetup;
  stepUp: StepUp;
  twoFactor: TwoFactorService;
  lifecycle: Pick<TwoFactorLifecycle, 'setKeys'>;
  attestation: AttestationVerifier;
  authenticatorModels: ModelRegistry;
  organizationService: KeyPolicies;
}

/** Security keys and passkeys (WebAuthn): phishing resistant. */
export const webAuthnModule: FactorModule<WebAuthnNeeds> = {
  name: 'webauthn',
  signals: WEBAUTHN_SIGNALS,
  entities: [WebAuthnCredentialRecord],
  migrations: [WebAuthnCredentials1796185116208, CredentialAttestation1796685498080],
  resolvers: [WebAuthnResolver, WebAuthnStatusResolver, WebAuthnLoginResolver],
  create(needs) {
    const { config, database, store, storeKeys, clock, logger, audit, setup, stepUp, twoFactor, lifecycle } = needs;
    const configured = config.webAuthn ? new WebAuthnRelyingParty(config.webAuthn) : null;
    const relyingParty = () => {
      if (!configured)
        throw new AppError('FORBIDDEN', 'Security keys are off: set WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS.');
      return configured;
    };
    const credentials = new WebAuthnCredentialRepository(database);
    const challenges = new WebAuthnChallengeStore(store, storeKeys, clock);
    const factor = new WebAuthnFactor({
      credentials,
      challenges,
      relyingParty,
      audit,
      logger,
      keyHash: storeKeys,
      keysChanged: (manager, userId, kinds, enforce) => lifecycle.setKeys(manager, userId, kinds, { enforce }),
    });
    const service = new WebAuthnService({
      attestation: needs.attestation,
      models: needs.authenticatorModels,
      // Read when used: the organizations module is made after this one.
      policies: () => needs.organizationService,
      database,
      credentials,
      challenges,
      relyingParty,
      factor,
      setup,
      stepUp,
      twoFactor,
      keyHash: storeKeys,
      audit,
      clock,
    });
    return {
      factor,
      resolvers: [
        new WebAuthnResolver(service),
        new WebAuthnStatusResolver(service),
        new WebAuthnLoginResolver(service),
      ],
    };
  },
};
