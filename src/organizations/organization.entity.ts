import { Column, Entity, Index } from 'typeorm';
import { PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';

/**
 * An organization, synced from upstream, with its two-factor policy. The member
 * counts are maintained in the same transaction as every change to a membership
 * or to a member's two-factor or phishing-resistance, so compliance is one row
 * read at any size (OrganizationRepository.moveMember says which counts a member
 * falls in).
 */
@Entity('organizations')
@Index('idx_organizations_grace_reminder_due', ['graceReminderDueAt'])
export class OrganizationRecord {
  @PrimaryIdColumn()
  id: string;

  @Column({ type: 'varchar', length: 255, charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  name: string;

  @Column({ name: 'requires_two_factor', type: 'boolean', default: false })
  requiresTwoFactor: boolean;

  /** Only a phishing-resistant factor (a security key or passkey) satisfies the policy; only with requiresTwoFactor. */
  @Column({ name: 'requires_phishing_resistant', type: 'boolean', default: false })
  requiresPhishingResistant: boolean;

  /** Members may skip the second factor on a trusted device ("remember this browser") only while every organization of theirs allows it. */
  @Column({ name: 'allows_trusted_devices', type: 'boolean', default: true })
  allowsTrustedDevices: boolean;

  @TimestampColumn({ name: 'two_factor_required_since', nullable: true })
  twoFactorRequiredSince: Date | null;

  @TimestampColumn({ name: 'grace_period_ends_at', nullable: true })
  gracePeriodEndsAt: Date | null;

  /** When the grace period ending at gracePeriodEndsAt was given: a reminder whose lead is longer than it is skipped. */
  @TimestampColumn({ name: 'grace_period_started_at', nullable: true })
  gracePeriodStartedAt: Date | null;

  /**
   * When the grace period's next reminder (or its end's event) is due; null when
   * none is left. The reminders' job reads only the rows due (src/enforcement/grace-reminders.ts).
   */
  @TimestampColumn({ name: 'grace_reminder_due_at', nullable: true })
  graceReminderDueAt: Date | null;

  /** Multi-factor done at the identity provider (sessionAmr "mfa") meets an any-factor requirement. */
  @Column({ name: 'accepts_identity_provider_mfa', type: 'boolean', default: false })
  acceptsIdentityProviderMfa: boolean;

  /**
   * The authenticator policy's allow-list: AAGUIDs (lower case), comma separated;
   * empty for any model. Judged with key sets (docs/adr/0021-key-sets.md).
   */
  @Column({
    name: 'allowed_aaguids',
    type: 'varchar',
    length: 3700,
    charset: 'ascii',
    collation: 'ascii_bin',
    default: '',
  })
  allowedAaguids: string;

  /** Only device-bound keys (not synced passkeys) meet a phishing-resistant requirement. */
  @Column({ name: 'require_device_bound', type: 'boolean', default: false })
  requireDeviceBound: boolean;

  @Column({ name: 'owners_with_two_factor', type: 'int', default: 0 })
  ownersWithTwoFactor: number;

  @Column({ name: 'owners_without_two_factor', type: 'int', default: 0 })
  ownersWithoutTwoFactor: number;

  @Column({ name: 'members_with_two_factor', type: 'int', default: 0 })
  membersWithTwoFactor: number;

  @Column({ name: 'members_without_two_factor', type: 'int', default: 0 })
  membersWithoutTwoFactor: number;

  /**
   * Its owners see audit events from this id on: the event that created it. An
   * id re-created after a deletion so never shows the deleted organization's
   * events to the new one's owners (ids grow; time from several instances need
   * not). Null for organizations never deleted before this column existed.
   */
  @Column({ name: 'audit_events_from', type: 'bigint', nullable: true })
  auditEventsFrom: string | null;
  @Column({ name: 'owners_with_phishing_resistant', type: 'int', default: 0 })
  ownersWithPhishingResistant: number;

  @Column({ name: 'owners_without_phishing_resistant', type: 'int', default: 0 })
  ownersWithoutPhishingResistant: number;

  @Column({ name: 'members_with_phishing_resistant', type: 'int', default: 0 })
  membersWithPhishingResistant: number;

  @Column({ name: 'members_without_phishing_resistant', type: 'int', default: 0 })
  membersWithoutPhishingResistant: number;

  /**
   * Phishing-resistant without two-factor: none while the phishing-resistant factor keeps its
   * credentials counted as two-factor, kept anyway so that every combination of
   * the member filters counts exactly from these columns.
   */
  @Column({ name: 'owners_phishing_resistant_without_two_factor', type: 'int', default: 0 })
  ownersPhishingResistantWithoutTwoFactor: number;

  @Column({ name: 'members_phishing_resistant_without_two_factor', type: 'int', default: 0 })
  membersPhishingResistantWithoutTwoFactor: number;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
