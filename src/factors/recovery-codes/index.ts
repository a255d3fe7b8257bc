import type { StepUp } from '../../attempts/step-up';
import type { AuditLog } from '../../audit/audit-log';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { Database } from '../../infra/db/database';
import type { UserRepository } from '../../users/user.repository';
import type { FactorModule } from '../factor-module';
import type { TwoFactorLifecycle } from '../two-factor-lifecycle';
import { RecoveryCodeIssuer } from './recovery-code-issuer';
import { RecoveryCodeRecord } from './recovery-code.entity';
import { RecoveryCodeFactor } from './recovery-code.factor';
import { RecoveryCodeRepository } from './recovery-code.repository';
import { RecoveryCodesResolver } from './recovery-codes.resolver';
import { RecoveryCodesService } from './recovery-codes.service';
import { RECOVERY_CODE_SIGNALS } from './signals';

interface RecoveryCodesNeeds {
  database: Database;
  users: UserRepository;
  secrets: SecretBox;
  audit: AuditLog;
  stepUp: StepUp;
  lifecycle: TwoFactorLifecycle;
  recoveryCodes: RecoveryCodeRepository;
  recoveryCodeIssuer: RecoveryCodeIssuer;
}

/** What the lifecycle (two-factor on and off) uses of recovery codes. */
interface RecoveryCodesGives {
  recoveryCodes: RecoveryCodeRepository;
  recoveryCodeIssuer: RecoveryCodeIssuer;
}

/** Ten single-use codes, issued when two-factor turns on; they answer when nothing else can. */
export const recoveryCodesModule: FactorModule<RecoveryCodesNeeds, RecoveryCodesGives> = {
  name: 'recovery-codes',
  signals: RECOVERY_CODE_SIGNALS,
  entities: [RecoveryCodeRecord],
  resolvers: [RecoveryCodesResolver],
  provides: {
    recoveryCodes: ({ database }) => new RecoveryCodeRepository(database),
    recoveryCodeIssuer: ({ recoveryCodes, users, secrets }) => new RecoveryCodeIssuer(recoveryCodes, users, secrets),
  },
  create({ recoveryCodes, recoveryCodeIssuer, secrets, audit, stepUp, users, lifecycle }) {
    const factor = new RecoveryCodeFactor(recoveryCodes, secrets, audit);
    const service = new RecoveryCodesService(stepUp, recoveryCodeIssuer, users, lifecycle, audit);
    return { factor, resolvers: [new RecoveryCodesResolver(service)] };
  },
};
