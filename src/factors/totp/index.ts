import type { FactorModule } from '../factor-module';
import { TotpFactorRecord } from './totp-factor.entity';
import { TotpFactorRepository } from './totp-factor.repository';
import { TotpFactor } from './totp.factor';
import { TotpResolver } from './totp.resolver';
import { TotpService } from './totp.service';

/** An authenticator app (RFC 6238). */
export const totpModule: FactorModule = {
  entities: [TotpFactorRecord],
  resolvers: [TotpResolver],
  create({ database, users, secrets, setup, twoFactor, config }) {
    const authenticators = new TotpFactorRepository(database);
    const factor = new TotpFactor(authenticators, users, secrets);
    const service = new TotpService(setup, authenticators, factor, config.totpIssuer);
    return { factor, resolvers: [new TotpResolver(service, twoFactor)] };
  },
};
