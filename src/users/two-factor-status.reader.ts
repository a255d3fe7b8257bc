import type { Database } from '../infra/db/database';
import type { FactorRepository, RecoveryCodeRepository } from '../infra/db/repositories/factor.repository';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import { TwoFactorMethod, type TwoFactorStatus } from './user.types';

const disabled = (): TwoFactorStatus => ({
  enabled: false,
  locked: false,
  methods: [],
  totp: null,
  sms: null,
  recoveryCodesRemaining: 0,
  enabledAt: null,
});

/** Reads users' two-factor status in batches: four queries however many users. */
export class TwoFactorStatusReader {
  constructor(
    private readonly database: Database,
    private readonly users: UserRepository,
    private readonly factors: FactorRepository,
    private readonly recoveryCodes: RecoveryCodeRepository,
    private readonly lockAfterFailures: number,
  ) {}

  async read(userIds: readonly string[]): Promise<TwoFactorStatus[]> {
    const ids = [...new Set(userIds)];
    const [users, totps, smses, remaining] = await this.database.run((manager) =>
      Promise.all([
        this.users.findMany(manager, ids),
        this.factors.findTotps(manager, ids),
        this.factors.findSmses(manager, ids),
        this.recoveryCodes.countUnused(manager, ids),
      ]),
    );
    const byId = new Map(users.map((user) => [user.id, user]));
    const totpById = new Map(totps.map((factor) => [factor.userId, factor]));
    const smsById = new Map(smses.map((factor) => [factor.userId, factor]));
    return userIds.map((id) => {
      const user = byId.get(id);
      if (!user) return disabled();
      const totp = totpById.get(id);
      const sms = smsById.get(id);
      const methods = [...(totp ? [TwoFactorMethod.TOTP] : []), ...(sms ? [TwoFactorMethod.SMS] : [])];
      return {
        enabled: user.twoFactorEnabled,
        locked: user.failedAttemptsInRow >= this.lockAfterFailures,
        methods,
        totp: totp ? { createdAt: totp.createdAt, lastUsedAt: totp.lastUsedAt } : null,
        sms: sms ? { phoneNumberMasked: sms.phoneMasked, createdAt: sms.createdAt, lastUsedAt: sms.lastUsedAt } : null,
        recoveryCodesRemaining: user.twoFactorEnabled ? (remaining.get(id) ?? 0) : 0,
        enabledAt: user.twoFactorEnabled ? user.enabledAt : null,
      };
    });
  }

  async readOne(userId: string): Promise<TwoFactorStatus> {
    return (await this.read([userId]))[0];
  }
}
