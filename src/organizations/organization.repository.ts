import type { EntityManager } from 'typeorm';
import type { Database } from '../infra/db/database';
import { rawBoolean, rawDate, rawNumber } from '../infra/db/raw-values';
import { OrganizationKeySetCountRecord } from './key-set.entity';
import type { OrganizationRoleValue } from './membership.entity';
import { OrganizationRecord } from './organization.entity';

/** What decides which counters a member falls in. */
export interface MemberKind {
  role: OrganizationRoleValue;
  twoFactorEnabled: boolean;
  phishingResistant: boolean;
  /** The member's key set (key-sets.ts), counted per organization in organization_key_set_counts. */
  keySetId: number;
}

const COUNTER_COLUMNS = {
  ownersWithTwoFactor: 'owners_with_two_factor',
  ownersWithoutTwoFactor: 'owners_without_two_factor',
  membersWithTwoFactor: 'members_with_two_factor',
  membersWithoutTwoFactor: 'members_without_two_factor',
  ownersWithPhishingResistant: 'owners_with_phishing_resistant',
  ownersWithoutPhishingResistant: 'owners_without_phishing_resistant',
  membersWithPhishingResistant: 'members_with_phishing_resistant',
  membersWithoutPhishingResistant: 'members_without_phishing_resistant',
  ownersPhishingResistantWithoutTwoFactor: 'owners_phishing_resistant_without_two_factor',
  membersPhishingResistantWithoutTwoFactor: 'members_phishing_resistant_without_two_factor',
} as const satisfies Partial<Record<keyof OrganizationRecord, string>>;
type Counter = keyof typeof COUNTER_COLUMNS;

/**
 * The counters a member is counted in, once each: by role and two-factor, by role
 * and phishing-resistance, and (should it ever happen) phishing-resistant without
 * two-factor. Together they give every combination of role, two-factor and
 * phishing-resistance exactly (OrganizationService.countMatching).
 */
const countersOf = ({ role, twoFactorEnabled, phishingResistant }: MemberKind): Counter[] => {
  const who = role === 'OWNER' ? 'owners' : 'members';
  const counters: Counter[] = [
    `${who}${twoFactorEnabled ? 'With' : 'Without'}TwoFactor`,
    `${who}${phishingResistant ? 'With' : 'Without'}PhishingResistant`,
  ];
  if (phishingResistant && !twoFactorEnabled) counters.push(`${who}PhishingResistantWithoutTwoFactor`);
  return counters;
};

const ZERO_COUNTERS = Object.fromEntries(Object.keys(COUNTER_COLUMNS).map((counter) => [counter, 0])) as Record<
  Counter,
  number
>;

const ORGANIZATION_COLUMNS = [
  'id',
  'name',
  'requires_two_factor',
  'requires_phishing_resistant',
  'allows_trusted_devices',
  'two_factor_required_since',
  'grace_period_ends_at',
  'grace_period_started_at',
  'grace_reminder_due_at',
  'accepts_identity_provider_mfa',
  'allowed_aaguids',
  'require_device_bound',
  'audit_events_from',
  'created_at',
  'updated_at',
  ...Object.values(COUNTER_COLUMNS),
].join(', ');

function organizationOf(row: Record<string, unknown>): OrganizationRecord {
  const counters = Object.fromEntries(
    Object.entries(COUNTER_COLUMNS).map(([counter, column]) => [counter, rawNumber(row[column])]),
  );
  return Object.assign(new OrganizationRecord(), {
    id: String(row.id),
    name: String(row.name),
    requiresTwoFactor: rawBoolean(row.requires_two_factor),
    requiresPhishingResistant: rawBoolean(row.requires_phishing_resistant),
    allowsTrustedDevices: rawBoolean(row.allows_trusted_devices),
    twoFactorRequiredSince: rawDate(row.two_factor_required_since),
    gracePeriodEndsAt: rawDate(row.grace_period_ends_at),
    gracePeriodStartedAt: rawDate(row.grace_period_started_at),
    graceReminderDueAt: rawDate(row.grace_reminder_due_at),
    acceptsIdentityProviderMfa: rawBoolean(row.accepts_identity_provider_mfa),
    allowedAaguids: String(row.allowed_aaguids ?? ''),
    requireDeviceBound: rawBoolean(row.require_device_bound),
    auditEventsFrom: row.audit_events_from === null ? null : String(row.audit_events_from),
    createdAt: rawDate(row.created_at)!,
    updatedAt: rawDate(row.updated_at)!,
    ...counters,
  });
}

export class OrganizationRepository {
  constructor(private readonly database: Database) {}

  /** Plain SQL (ADR 0005): every organization page and every user's memberships read these. */
  async find(manager: EntityManager, id: string): Promise<OrganizationRecord | null> {
    const [row] = await this.findMany(manager, [id]);
    return row ?? null;
  }

  async findMany(manager: EntityManager, ids: string[]): Promise<OrganizationRecord[]> {
    if (ids.length === 0) return [];
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return rows.map(organizationOf);
  }

  lock(manager: EntityManager, id: string): Promise<OrganizationRecord | null> {
    const query = manager.createQueryBuilder(OrganizationRecord, 'organization').where('organization.id = :id', { id });
    return this.database.lockForUpdate(query).getOne();
  }

  /** Locks the organizations in id order, so two transactions never wait on each other in a circle. */
  lockMany(manager: EntityManager, ids: string[]): Promise<OrganizationRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const query = manager
      .createQueryBuilder(OrganizationRecord, 'organization')
      .where('organization.id IN (:...ids)', { ids })
      .orderBy('organization.id');
    return this.database.lockForUpdate(query).getMany();
  }

  async insert(manager: EntityManager, id: string, name: string, now: Date, auditEventsFrom: string): Promise<void> {
    await manager.insert(OrganizationRecord, {
      id,
      name,
      auditEventsFrom,
      requiresTwoFactor: false,
      requiresPhishingResistant: false,
      allowsTrustedDevices: true,
      acceptsIdentityProviderMfa: false,
      allowedAaguids: '',
      requireDeviceBound: false,
      ...ZERO_COUNTERS,
      createdAt: now,
      updatedAt: now,
    });
  }

  async update(manager: EntityManager, id: string, changes: Partial<OrganizationRecord>): Promise<void> {
    await manager.update(OrganizationRecord, { id }, changes);
  }

  /**
   * Moves one member between the maintained counters (either side may be absent:
   * joining, leaving), in one UPDATE; the caller holds the organization's row lock.
   */
  async moveMember(manager: EntityManager, id: string, from: MemberKind | null, to: MemberKind | null): Promise<void> {
    const deltas = new Map<Counter, number>();
    for (const counter of from ? countersOf(from) : []) deltas.set(counter, (deltas.get(counter) ?? 0) - 1);
    for (const counter of to ? countersOf(to) : []) deltas.set(counter, (deltas.get(counter) ?? 0) + 1);
    await this.moveKeySetCount(manager, id, from, to);
    const changes = [...deltas].filter(([, delta]) => delta !== 0);
    if (changes.length === 0) return;
    const set = Object.fromEntries(
      changes.map(([counter, delta]) => [counter, () => `${COUNTER_COLUMNS[counter]} + (${delta})`]),
    );
    await manager.createQueryBuilder().update(OrganizationRecord).set(set).where('id = :id', { id }).execute();
  }

  /** The member's key-set count moves with it (docs/adr/0021-key-sets.md); under the same row lock. */
  private async moveKeySetCount(
    manager: EntityManager,
    id: string,
    from: MemberKind | null,
    to: MemberKind | null,
  ): Promise<void> {
    const cell = (kind: MemberKind) => `${kind.keySetId}:${kind.role}:${kind.twoFactorEnabled}`;
    if (from && to && cell(from) === cell(to)) return;
    if (from) await this.addToKeySetCount(manager, id, from, -1);
    if (to) await this.addToKeySetCount(manager, id, to, 1);
  }

  private async addToKeySetCount(manager: EntityManager, id: string, kind: MemberKind, delta: number): Promise<void> {
    const key = {
      organizationId: id,
      keySetId: kind.keySetId ?? 0,
      role: kind.role,
      twoFactorEnabled: kind.twoFactorEnabled,
    };
    const result = await manager
      .createQueryBuilder()
      .update(OrganizationKeySetCountRecord)
      .set({ members: () => `members + (${delta})` })
      .where(key)
      .execute();
    if (!result.affected) await manager.insert(OrganizationKeySetCountRecord, { ...key, members: delta });
  }

  async delete(manager: EntityManager, id: string): Promise<boolean> {
    await manager.delete(OrganizationKeySetCountRecord, { organizationId: id });
    const result = await manager.delete(OrganizationRecord, { id });
    return (result.affected ?? 0) > 0;
  }
}
