import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Answer } from '../../attempts/second-factor';
import type { Actor, Caller } from '../../callers/caller';
import type { SecretBox } from '../../infra/crypto/cipher';
import { base32Encode } from '../../infra/crypto/random';
import { TwoFactorMethod } from '../../users/two-factor-method';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorSetupResult } from '../two-factor.types';
import { otpauthUri } from './totp-algorithm';
import { totpSecretBinding } from './totp-factor.entity';
import type { TotpFactorRepository } from './totp-factor.repository';
import type { TotpFactor } from './totp.factor';
import type { TotpSetup } from './totp.types';

/** Setting up and confirming a TOTP authenticator (removing it: TwoFactorService). */
export class TotpService {
  constructor(
    private readonly setup: FactorSetup,
    private readonly authenticators: TotpFactorRepository,
    private readonly factor: TotpFactor,
    private readonly issuer: string,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * A new 160-bit secret, pending until confirmed. With two-factor on, a step-up
   * answer is needed and the new authenticator replaces the old one only when confirmed.
   */
  async startSetup(caller: Caller, actor: Actor, stepUp: Answer): Promise<TotpSetup> {
    const secret = base32Encode(randomBytes(20));
    const expiresAt = await this.setup.start(caller, actor, stepUp, { method: TwoFactorMethod.TOTP, secret });
    const uri = otpauthUri(secret, this.issuer, caller.subject);
    return {
      secret,
      otpauthUri: uri,
      qrCodeSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      expiresAt,
    };
  }

  /** Confirms with a current code of the new authenticator (that code alone). */
  confirmSetup(caller: Caller, actor: Actor, code: string): Promise<TwoFactorSetupResult> {
    return this.setup.confirm(
      caller,
      actor,
      { code },
      {
        factor: this.factor,
        replaces: true,
        verify: ({ manager, user, answer, now }, secret) =>
          this.factor.spendStep(manager, user, secret, answer.code ?? '', now),
        // Sealed again, to the authenticator's row: the pending setup's ciphertext is bound to the setup.
        bind: (manager, pending, now, secret) =>
          this.authenticators.save(manager, {
            userId: pending.userId,
            secretCiphertext: this.secrets.seal(secret, totpSecretBinding(pending.userId)),
            createdAt: now,
            lastUsedAt: now,
          }),
      },
    );
  }
}
