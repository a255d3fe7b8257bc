import { Column, Entity } from 'typeorm';
import { PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';

/** A user's two-factor state. A user with no row has no two-factor. */
@Entity('users')
export class UserRecord {
  @PrimaryIdColumn()
  id: string;

  @Column({ name: 'two_factor_enabled', type: 'boolean', default: false })
  twoFactorEnabled: boolean;

  /**
   * At least one phishing-resistant key (a phishing-resistant factor). Changed only
   * through OrganizationMembers.setMemberPhishingResistant, which keeps the
   * memberships' copies and the organizations' counters in step.
   */
  @Column({ name: 'phishing_resistant', type: 'boolean', default: false })
  phishingResistant: boolean;

  /**
   * The kinds of key the user has (organizations/key-sets.ts): 0 for none. Changed
   * with phishingResistant, and copied on each membership.
   */
  @Column({ name: 'key_set_id', type: 'int', default: 0 })
  keySetId: number;

  @TimestampColumn({ name: 'enabled_at', nullable: true })
  enabledAt: Date | null;

  /** Failed code checks in a row, across time windows; a success ends the row. */
  @Column({ name: 'failed_attempts_in_row', type: 'int', default: 0 })
  failedAttemptsInRow: number;

  /** The last TOTP time step accepted: no code of this step or earlier works again. */
  @Column({ name: 'last_totp_step', type: 'int', nullable: true })
  lastTotpStep: number | null;

  /**
   * Failed answers in the current window (LIMITS.userFailureWindowSeconds from
   * the window's first failure): past the limit every answer is RATE_LIMITED.
   * Counted under the user's row lock, in the answer's own transaction.
   */
  @Column({ name: 'failures_in_window', type: 'int', default: 0 })
  failuresInWindow: number;

  @TimestampColumn({ name: 'failure_window_started_at', nullable: true })
  failureWindowStartedAt: Date | null;

  @TimestampColumn({ name: 'recovery_codes_generated_at', nullable: true })
  recoveryCodesGeneratedAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
