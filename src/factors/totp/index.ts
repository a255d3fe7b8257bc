import type { Config } from '../../config/config';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { Database } from '../../infra/db/database';
import { ciphertextsOf } from '../../module';
import type { UserRepository } from '../../users/user.repository';
import type { FactorModule } from '../factor-module';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorService } from '../two-factor.service';
import { TotpSecretCiphertextIndex1796685498079 } from './migrations/1796685498079-TotpSecretCiphertextIndex';
import { TOTP_SIGNALS } from './signals';
import { TotpFactorRecord, totpSecretBinding } from './totp-factor.entity';
import { TotpFactorRepository } from './totp-factor.repository';
import { TotpFactor } from './totp.factor';
import { TotpResolver } from './totp.resolver';
import { TotpService } from './totp.service';

interface TotpNeeds {
  config: Pick<Config, 'totpIssuer'>;
  database: Database;
  users: UserRepository;
  secrets: SecretBox;
  setup: FactorSetup;
  twoFactor: TwoFactorService;
}

/** An authenticator app (RFC 6238). */
export const totpModule: FactorModule<TotpNeeds> = {
  name: 'totp',
  signals: TOTP_SIGNALS,
  entities: [TotpFactorRecord],
  migrations: [TotpSecretCiphertextIndex1796685498079],
  resolvers: [TotpResolver],
  ciphertexts: [
    ciphertextsOf({
      entity: TotpFactorRecord,
      key: ['userId'],
      column: 'secretCiphertext',
      binding: (row) => totpSecretBinding(row.userId),
    }),
  ],
  create({ config, database, users, secrets, setup, twoFactor }) {
    const authenticators = new TotpFactorRepository(database);
    const factor = new TotpFactor(authenticators, users, secrets);
    const service = new TotpService(setup, authenticators, factor, config.totpIssuer, secrets);
    return { factor, resolvers: [new TotpResolver(service, twoFactor)] };
  },
};
