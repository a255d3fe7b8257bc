import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Actor } from '../../audit/audit-log';
import type { Caller } from '../../callers/caller';
import { base32Encode } from '../../infra/crypto/random';
import type { FactorRepository } from '../../infra/db/repositories/factor.repository';
import { TwoFactorMethod } from '../../users/user.types';
import { isSixDigits } from '../factor';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorSetupResult } from '../two-factor.types';
import { otpauthUri } from './totp-algorithm';
import type { TotpSetup } from './totp.types';
import type { TotpVerifier } from './totp.verifier';

/** Setting up and confirming a TOTP authenticator (removing it: TwoFactorService). */
export class TotpService {
  constructor(
    private readonly setup: FactorSetup,
    private readonly factors: FactorRepository,
    private readonly verifier: TotpVerifier,
    private readonly issuer: string,
  ) {}

  /**
   * A new 160-bit secret, pending until confirmed. With two-factor on, a step-up
   * code is needed and the new authenticator replaces the old one only when confirmed.
   */
  async startSetup(caller: Caller, actor: Actor, code: string | null | undefined): Promise<TotpSetup> {
    const secret = base32Encode(randomBytes(20));
    const expiresAt = await this.setup.start(caller, actor, code, { method: 'TOTP', secret });
    const uri = otpauthUri(secret, this.issuer, caller.subject);
    return { secret, otpauthUri: uri, qrCodeSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }), expiresAt };
  }

  /** Confirms with a current code of the new authenticator (that code alone). */
  confirmSetup(caller: Caller, actor: Actor, code: string): Promise<TwoFactorSetupResult> {
    return this.setup.confirm(
      caller,
      actor,
      code,
      'TOTP',
      (secret) => ({
        method: TwoFactorMethod.TOTP,
        accepts: isSixDigits,
        verify: (manager, userId, given) => this.verifier.verifySecret(manager, userId, secret, given),
      }),
      (manager, pending, now) =>
        this.factors.saveTotp(manager, { userId: pending.userId, secretCiphertext: pending.payloadCiphertext, createdAt: now, lastUsedAt: now }),
    );
  }
}
