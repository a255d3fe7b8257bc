import { OnePerUserRepository } from '../../infra/db/repositories/one-per-user.repository';
import { SmsFactorRecord } from './sms-factor.entity';

/** Confirmed phone numbers: at most one a user. */
export class SmsFactorRepository extends OnePerUserRepository<SmsFactorRecord> {
  constructor() {
    super(SmsFactorRecord);
  }
}
