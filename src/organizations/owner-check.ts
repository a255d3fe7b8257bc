import type { EntityManager } from 'typeorm';
import type { Caller } from '../callers/caller';
import { AppError } from '../errors';
import type { MembershipRepository } from './membership.repository';
import type { OrganizationRecord } from './organization.entity';
import type { OrganizationRepository } from './organization.repository';

/**
 * The one check of an owner's operation: the organization, when the caller owns
 * it; FORBIDDEN alike when it does not exist and for anyone but its owners, so
 * nobody learns which ids exist. Callers check first without locks (so
 * strangers never hold the row), then again with `lock`, under the
 * organization's row lock. `refusal` says what only owners may do.
 */
export async function requireOwner(
  repositories: { organizations: OrganizationRepository; memberships: MembershipRepository },
  manager: EntityManager,
  caller: Caller,
  organizationId: string,
  { lock, refusal }: { lock: boolean; refusal: string },
): Promise<OrganizationRecord> {
  const organization = lock
    ? await repositories.organizations.lock(manager, organizationId)
    : await repositories.organizations.find(manager, organizationId);
  const membership = await repositories.memberships.find(manager, organizationId, caller.subject);
  if (!organization || membership?.role !== 'OWNER') throw new AppError('FORBIDDEN', refusal);
  return organization;
}
