import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Actor } from '../../audit/audit-log';
import type { CodeChecker } from '../../attempts/code-checker';
import type { Caller } from '../../callers/caller';
import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import { base32Encode } from '../../infra/crypto/random';
import type { Database } from '../../infra/db/database';
import type { FactorRepository } from '../../infra/db/repositories/factor.repository';
import type { StepUp } from '../../step-up/step-up';
import type { TwoFactorStatusReader } from '../../users/two-factor-status.reader';
import { TwoFactorMethod } from '../../users/user.types';
import type { EnrollmentGuard } from '../enrollment-guard';
import { type CodeVerifier, isSixDigits } from '../factor';
import type { TwoFactorLifecycle } from '../two-factor-lifecycle';
import type { TwoFactorSetupResult } from '../two-factor.types';
import { otpauthUri } from './totp-algorithm';
import type { TotpSetup } from './totp.types';
import type { TotpVerifier } from './totp.verifier';

const SETUP_TTL_MS = 10 * 60 * 1000;

/** Setting up and confirming a TOTP authenticator (removing it: TwoFactorService). */
export class TotpService {
  constructor(
    private readonly database: Database,
    private readonly factors: FactorRepository,
    private readonly verifier: TotpVerifier,
    private readonly checker: CodeChecker,
    private readonly stepUp: StepUp,
    private readonly lifecycle: TwoFactorLifecycle,
    private readonly enrollment: EnrollmentGuard,
    private readonly statuses: TwoFactorStatusReader,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {}

  /**
   * A new secret, pending until confirmed. With two-factor on, a step-up code is
   * needed and the new authenticator replaces the old one only when confirmed.
   */
  async startSetup(caller: Caller, actor: Actor, code: string | null | undefined): Promise<TotpSetup> {
    const userId = caller.subject;
    const secret = base32Encode(randomBytes(20));
    const expiresAt = new Date(this.clock.now().getTime() + SETUP_TTL_MS);
    const pending = { userId, method: 'TOTP' as const, payloadCiphertext: this.secrets.encrypt(secret), lookupHash: null, display: null, expiresAt };
    if (await this.stepUp.isEnabled(userId)) {
      await this.stepUp.require(actor, userId, code, (manager, _method, now) => this.factors.savePending(manager, { ...pending, createdAt: now }));
    } else {
      this.enrollment.assertRecentSignIn(caller);
      await this.database.transaction((manager) => this.factors.savePending(manager, { ...pending, createdAt: this.clock.now() }));
    }
    const uri = otpauthUri(secret, this.issuer, userId);
    return { secret, otpauthUri: uri, qrCodeSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }), expiresAt };
  }

  /** Confirms with a current code of the new authenticator (that code alone). */
  async confirmSetup(caller: Caller, actor: Actor, code: string): Promise<TwoFactorSetupResult> {
    const userId = caller.subject;
    const pending = await this.database.run((manager) => this.factors.findPending(manager, userId, 'TOTP'));
    if (!pending || pending.expiresAt <= this.clock.now()) throw noPendingSetup();
    if (!(await this.stepUp.isEnabled(userId))) this.enrollment.assertRecentSignIn(caller);
    const secret = this.secrets.decrypt(pending.payloadCiphertext);
    const newAuthenticator: CodeVerifier = {
      method: TwoFactorMethod.TOTP,
      accepts: isSixDigits,
      verify: (manager, id, given) => this.verifier.verifySecret(manager, id, secret, given),
    };
    const { result: recoveryCodes } = await this.checker.check({
      userId,
      code,
      verifiers: [newAuthenticator],
      purpose: { kind: 'setup', userId },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess: async (manager, _method, now) => {
        // Started again meanwhile: this code belongs to a secret that is gone.
        const current = await this.factors.findPending(manager, userId, 'TOTP');
        if (current?.payloadCiphertext !== pending.payloadCiphertext) throw noPendingSetup();
        await this.factors.deletePending(manager, userId, 'TOTP');
        await this.factors.saveTotp(manager, { userId, secretCiphertext: pending.payloadCiphertext, createdAt: now, lastUsedAt: now });
        return this.lifecycle.completeEnrollment(manager, actor, userId, 'TOTP', now);
      },
    });
    return { status: await this.statuses.readOne(userId), recoveryCodes };
  }
}

const noPendingSetup = () => new AppError('NOT_FOUND', 'No TOTP setup is pending: start it again.');
