import type { FactorModule } from '../factor-module';
import { SmsCodeStore } from './sms-code-store';
import { SmsCountryRules } from './sms-country-rules';
import { SmsDispatcher } from './sms-dispatcher';
import { SmsFactorRecord } from './sms-factor.entity';
import { SmsFactorRepository } from './sms-factor.repository';
import { SmsSendLimits } from './sms-send-limits';
import { SmsSendMetrics } from './sms-send-metrics';
import { SmsTexts } from './sms-texts';
import { SmsFactor } from './sms.factor';
import { SmsResolver } from './sms.resolver';
import { SmsService } from './sms.service';

/** Codes sent by SMS to a confirmed phone number. */
export const smsModule: FactorModule = {
  entities: [SmsFactorRecord],
  resolvers: [SmsResolver],
  create({
    config,
    store,
    storeKeys,
    secrets,
    clock,
    smsSender,
    metrics,
    database,
    audit,
    setup,
    twoFactor,
    challenges,
    logger,
  }) {
    const numbers = new SmsFactorRepository(database);
    const codes = new SmsCodeStore(store, secrets, storeKeys, clock);
    const factor = new SmsFactor(codes, numbers);
    const limits = new SmsSendLimits(
      store,
      { daily: config.sms.dailyBudget, setupDaily: config.sms.setupDailyBudget },
      storeKeys,
      logger,
      new SmsCountryRules(store, config.sms.allowedCountries, config.sms.countryDailyCaps, clock),
    );
    metrics.watchSmsBudgets({ total: config.sms.dailyBudget, setup: config.sms.setupDailyBudget }, async () => {
      const used = await limits.used();
      return { total: used.daily, setup: used.setupDaily };
    });
    const texts = new SmsTexts(config.totpIssuer, config.sms.webOtpDomain);
    const dispatcher = new SmsDispatcher(limits, codes, smsSender, clock, texts, new SmsSendMetrics(metrics.registry));
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
      challenges,
    });
    return { factor, resolvers: [new SmsResolver(service, twoFactor)] };
  },
};
