import { Column, Entity, Index } from 'typeorm';
import type { SecretBinding } from '../../infra/crypto/cipher';
import { CiphertextColumn, HashColumn, PrimaryIdColumn, TimestampColumn } from '../../infra/db/columns';
import { LIMITS } from '../../limits';
import { DEFAULT_SMS_LOCALE } from './sms-messages';

/** A confirmed phone number: encrypted, found by keyed hash, shown only masked. */
@Entity('sms_factors')
export class SmsFactorRecord {
  @PrimaryIdColumn({ name: 'user_id' })
  userId: string;

  /** Sealed to the user (smsPhoneBinding); indexed so the key ids in use are read cheaply (ADR 0022). */
  @Index('idx_sms_factors_phone_ciphertext')
  @CiphertextColumn({ name: 'phone_ciphertext' })
  phoneCiphertext: string;

  @Index('idx_sms_factors_phone_hash')
  @HashColumn({ name: 'phone_hash' })
  phoneHash: string;

  @Column({ name: 'phone_masked', type: 'varchar', length: 40, charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  phoneMasked: string;

  /** The language its SMS are written in: a canonical BCP 47 tag (numbers from before languages: en). */
  @Column({
    name: 'sms_locale',
    type: 'varchar',
    length: LIMITS.smsLocaleMaxLength,
    charset: 'ascii',
    collation: 'ascii_bin',
    default: DEFAULT_SMS_LOCALE,
  })
  smsLocale: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}

/** The number is the user's: copied to another user's row it does not decrypt. */
export const smsPhoneBinding = (userId: string): SecretBinding => ({ purpose: 'sms-phone', row: userId, userId });
