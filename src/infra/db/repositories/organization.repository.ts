import { In, type EntityManager } from 'typeorm';
import type { Database } from '../database';
import { OrganizationRecord } from '../entities';
import type { OrganizationRoleValue } from '../entities/membership.entity';

/** Which counter a member falls in. */
export interface MemberKind {
  role: OrganizationRoleValue;
  twoFactorEnabled: boolean;
}

type Counter = 'ownersWithTwoFactor' | 'ownersWithoutTwoFactor' | 'membersWithTwoFactor' | 'membersWithoutTwoFactor';
const COUNTER_COLUMNS: Record<Counter, string> = {
  ownersWithTwoFactor: 'owners_with_two_factor',
  ownersWithoutTwoFactor: 'owners_without_two_factor',
  membersWithTwoFactor: 'members_with_two_factor',
  membersWithoutTwoFactor: 'members_without_two_factor',
};
const counterOf = ({ role, twoFactorEnabled }: MemberKind): Counter =>
  `${role === 'OWNER' ? 'owners' : 'members'}${twoFactorEnabled ? 'With' : 'Without'}TwoFactor`;

export class OrganizationRepository {
  constructor(private readonly database: Database) {}

  find(manager: EntityManager, id: string): Promise<OrganizationRecord | null> {
    return manager.findOneBy(OrganizationRecord, { id });
  }

  findMany(manager: EntityManager, ids: string[]): Promise<OrganizationRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return manager.findBy(OrganizationRecord, { id: In(ids) });
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
      ownersWithTwoFactor: 0,
      ownersWithoutTwoFactor: 0,
      membersWithTwoFactor: 0,
      membersWithoutTwoFactor: 0,
      createdAt: now,
      updatedAt: now,
    });
  }

  async update(manager: EntityManager, id: string, changes: Partial<OrganizationRecord>): Promise<void> {
    await manager.update(OrganizationRecord, { id }, changes);
  }

  /** Moves one member between the maintained counters (either side may be absent). */
  async moveMember(manager: EntityManager, id: string, from: MemberKind | null, to: MemberKind | null): Promise<void> {
    const deltas = new Map<Counter, number>();
    if (from) deltas.set(counterOf(from), (deltas.get(counterOf(from)) ?? 0) - 1);
    if (to) deltas.set(counterOf(to), (deltas.get(counterOf(to)) ?? 0) + 1);
    const changes = [...deltas].filter(([, delta]) => delta !== 0);
    if (changes.length === 0) return;
    const set = Object.fromEntries(
      changes.map(([counter, delta]) => [counter, () => `${COUNTER_COLUMNS[counter]} + (${delta})`]),
    );
    await manager.createQueryBuilder().update(OrganizationRecord).set(set).where('id = :id', { id }).execute();
  }

  async delete(manager: EntityManager, id: string): Promise<boolean> {
    const result = await manager.delete(OrganizationRecord, { id });
    return (result.affected ?? 0) > 0;
  }
}
