import { AppError } from '../../errors';
import type { FactorModule } from '../factor-module';
import { WebAuthnChallengeStore } from './webauthn-challenge-store';
import { WebAuthnCredentialRecord } from './webauthn-credential.entity';
import { WebAuthnCredentialRepository } from './webauthn-credential.repository';
import { WebAuthnRelyingParty } from './webauthn-relying-party';
import { WebAuthnFactor } from './webauthn.factor';
import { WebAuthnLoginResolver, WebAuthnResolver, WebAuthnStatusResolver } from './webauthn.resolver';
import { WebAuthnService } from './webauthn.service';

/** Security keys and passkeys (WebAuthn): phishing resistant. */
export const webAuthnModule: FactorModule = {
  entities: [WebAuthnCredentialRecord],
  resolvers: [WebAuthnResolver, WebAuthnStatusResolver, WebAuthnLoginResolver],
  create({ config, database, store, storeKeys, clock, logger, audit, setup, stepUp, twoFactor, lifecycle }) {
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
      phishingResistanceChanged: (manager, userId, has, enforce) =>
        lifecycle.setPhishingResistant(manager, userId, has, { enforce }),
    });
    const service = new WebAuthnService({
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
