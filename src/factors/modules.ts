import type { FactorModule } from './factor-module';
import { recoveryCodesModule } from './recovery-codes';
import { smsModule } from './sms';
import { totpModule } from './totp';
import { webAuthnModule } from './webauthn';

/**
 * Every second factor, in the order an answer is tried. Adding a factor is a
 * folder under factors/ and one line here (CONTRIBUTING.md).
 */
export const FACTOR_MODULES: readonly FactorModule[] = [totpModule, smsModule, webAuthnModule, recoveryCodesModule];
