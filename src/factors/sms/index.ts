import type { AuditLog } from '../../audit/audit-log';
import type { Config } from '../../config/config';
import type { Metrics } from '../../http/metrics';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Database } from '../../infra/db/database';
import type { Logger } from '../../infra/logger';
import type { SmsSender } from '../../infra/sms-sender/sms-sender';
import type { Store } from '../../infra/store/store';
import { ciphertextsOf } from '../../module';
import type { FactorModule } from '../factor-module';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorService } from '../two-factor.service';
import { SmsLocale1796681329277 } from './migrations/1796681329277-SmsLocale';
import { SmsPhoneCiphertextIndex1796685498078 } from './migrations/1796685498078-SmsPhoneCiphertextIndex';
import { SMS_SIGNALS } from './signals';
import { SmsCodeStore } from './sms-code-store';
import { SmsCountryRules } from './sms-country-rules';
import { SmsDispatcher } from './sms-dispatcher';
import { SmsFactorRecord, smsPhoneBinding } from './sms-factor.entity';
import { SmsFactorRepository } from './sms-factor.repository';
import { SmsSendLimits } from './sms-send-limits';
import { SmsSendMetrics } from './sms-send-metrics';
import { SmsTexts } from './sms-texts';
import { SmsFactor } from './sms.factor';
import { SmsResolver } from './sms.resolver';
import { type LoginChallenges, SmsService } from './sms.service';

interface SmsNeeds {
  config: Pick<Config, 'sms' | 'totpIssuer'>;
  database: Database;
  store: Store;
  storeKeys: StoreKeyHash;
  secrets: SecretBox;
  clock: Clock;
  smsSender: SmsSender;
  metrics: Pick<Metrics, 'watchSmsBudgets' | 'registry'>;
  audit: AuditLog;
  setup: FactorSetup;
  twoFactor: TwoFactorService;
  loginChallenges: LoginChallenges;
  logger: Logger;
}

/** Codes sent by SMS to a confirmed phone number. */
export const smsModule: FactorModule<SmsNeeds> = {
  name: 'sms',
  signals: SMS_SIGNALS,
  entities: [SmsFactorRecord],
  migrations: [SmsLocale1796681329277, SmsPhoneCiphertextIndex1796685498078],
  resolvers: [SmsResolver],
  // phone_hash is rewritten with it: a hash under a leaked old key would let its holder try every number against it.
  ciphertexts: [
    ciphertextsOf({
      entity: SmsFactorRecord,
      key: ['userId'],
      column: 'phoneCiphertext',
      binding: (row) => smsPhoneBinding(row.userId),
      hashes: ['phoneHash'],
    }),
  ],
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
    loginChallenges,
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
      challenges: loginChallenges,
    });
    return { factor, resolvers: [new SmsResolver(service, twoFactor)] };
  },
};
