import type { AuditLog } from '../audit/audit-log';
import type { Config } from '../config/config';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import type { Module } from '../module';
import { TrustedDeviceSignInStrength1796676973136 } from './migrations/1796676973136-TrustedDeviceSignInStrength';
import { TrustedDeviceRecord } from './trusted-device.entity';
import { TrustedDeviceRepository } from './trusted-device.repository';
import { TrustedDeviceResolver, TrustedDeviceStatusResolver } from './trusted-device.resolver';
import { TrustedDeviceService } from './trusted-device.service';

interface TrustedDevicesNeeds {
  config: Pick<Config, 'trustedDevices'>;
  database: Database;
  secrets: SecretBox;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  trustedDevices: TrustedDeviceService;
}

interface TrustedDevicesGives {
  trustedDevices: TrustedDeviceService;
}

/** "Remember this browser": device tokens that stand in for the second step. */
export const trustedDevicesModule: Module<TrustedDevicesNeeds, TrustedDevicesGives> = {
  name: 'trusted-devices',
  entities: [TrustedDeviceRecord],
  migrations: [TrustedDeviceSignInStrength1796676973136],
  resolvers: [TrustedDeviceResolver, TrustedDeviceStatusResolver],
  provides: {
    trustedDevices: ({ config, database, secrets, audit, clock, logger }) =>
      new TrustedDeviceService({
        database,
        devices: new TrustedDeviceRepository(database),
        secrets,
        audit,
        clock,
        logger,
        days: config.trustedDevices.days,
      }),
  },
  create: ({ trustedDevices }) => ({
    resolvers: [new TrustedDeviceResolver(trustedDevices), new TrustedDeviceStatusResolver(trustedDevices)],
  }),
};
