import type { FactorModule } from '../factor-module';
import { SmsCodeStore } from './sms-code-store';
import { SmsDispatcher } from './sms-dispatcher';
import { SmsFactorRecord } from './sms-factor.entity';
import { SmsFactorRepository } from './sms-factor.repository';
import { SmsSendLimits } from './sms-send-limits';
import { SmsFactor } from './sms.factor';
import { SmsResolver } from './sms.resolver';
import { SmsService } from './sms.service';

/** Codes sent by SMS to a confirmed phone number. */
export const smsModule: FactorModule = {
  entities: [SmsFactorRecord],
  resolvers: [SmsResolver],
  create({ config, store, secrets, clock, smsSender, database, audit, setup, twoFactor, challenges }) {
    const numbers = new SmsFactorRepository();
    const codes = new SmsCodeStore(store, secrets, clock);
    const factor = new SmsFactor(codes, numbers);
    const dispatcher = new SmsDispatcher(new SmsSendLimits(store, config.sms.dailyBudget), codes, smsSender, clock, config.totpIssuer);
    const service = new SmsService({
      setup,
      database,
      numbers,
      factor,
      codes,
      dispatcher,
      secrets,
      audit,
      clock,
      allowedCountries: config.sms.allowedCountries,
      challenges,
    });
    return { factor, resolvers: [new SmsResolver(service, twoFactor)] };
  },
};
