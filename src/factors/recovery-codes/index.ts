import type { StepUp } from '../../attempts/step-up';
import type { AuditLog } from '../../audit/audit-log';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { Database } from '../../infra/db/database';
import { ciphertextsOf } from '../../module';
import type { UserRepository } from '../../users/user.repository';
import type { FactorModule } from '../factor-module';
import type { TwoFactorLifecycle } from '../two-factor-lifecycle';
import { RecoveryCodeCiphertextIndex1796685498077 } from './migrations/1796685498077-RecoveryCodeCiphertextIndex';
import { RecoveryCodeIssuer } from './recovery-code-issuer';
import { recoveryCodeBinding, RecoveryCodeRecord } from './recovery-code.entity';
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
  migrations: [RecoveryCodeCiphertextIndex1796685498077],
  resolvers: [RecoveryCodesResolver],
  // The keyed hash is rewritten with the code: a code is found under the keys still given, so a retired key may go.
  ciphertexts: [
    ciphertextsOf({
      entity: RecoveryCodeRecord,
      key: ['id'],
      column: 'codeCiphertext',
      reads: ['userId', 'position'],
      binding: (row) => recoveryCodeBinding(row.userId, row.position),
      hashes: ['codeHash'],
    }),
  ],
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
