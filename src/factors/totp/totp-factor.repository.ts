import { OnePerUserRepository } from '../../infra/db/repositories/one-per-user.repository';
import { TotpFactorRecord } from './totp-factor.entity';

/** Confirmed TOTP authenticators: at most one a user. */
export class TotpFactorRepository extends OnePerUserRepository<TotpFactorRecord> {
  constructor() {
    super(TotpFactorRecord);
  }
}
