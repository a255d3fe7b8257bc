import type { FactorModule } from '../factor-module';
import { RecoveryCodeRecord } from './recovery-code.entity';
import { RecoveryCodeFactor } from './recovery-code.factor';
import { RecoveryCodesResolver } from './recovery-codes.resolver';
import { RecoveryCodesService } from './recovery-codes.service';

/** Ten single-use codes, issued when two-factor turns on; they answer when nothing else can. */
export const recoveryCodesModule: FactorModule = {
  entities: [RecoveryCodeRecord],
  resolvers: [RecoveryCodesResolver],
  create({ recoveryCodes, secrets, audit, stepUp, issuer, users, lifecycle }) {
    const factor = new RecoveryCodeFactor(recoveryCodes, secrets, audit);
    const service = new RecoveryCodesService(stepUp, issuer, users, lifecycle, audit);
    return { factor, resolvers: [new RecoveryCodesResolver(service)] };
  },
};
