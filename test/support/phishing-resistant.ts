import type { App } from '../../src/app';
import { AppError } from '../../src/errors';
import type { Clock } from '../../src/infra/clock';
import { MembershipRepository } from '../../src/organizations/membership.repository';
import { OrganizationMembers } from '../../src/organizations/organization-members';
import { OrganizationRepository } from '../../src/organizations/organization.repository';
import { UserRepository } from '../../src/users/user.repository';

/**
 * Stands in for the WebAuthn factor, which is not in this branch: what it does to
 * organizations in the transaction that adds a user's first credential or removes
 * its last, through the API it will call (OrganizationMembers), on the app's own
 * database. Once the factor is here, tests may register real credentials instead.
 */
export function webAuthnStandIn(app: App, clock: Clock) {
  const { database } = app;
  const users = new UserRepository(database);
  const members = new OrganizationMembers(
    new MembershipRepository(database),
    new OrganizationRepository(database),
    users,
  );
  return {
    /** As confirming the first credential: the user becomes phishing-resistant. */
    addFirstCredential: (userId: string) =>
      database.transaction(async (manager) => {
        await users.lock(manager, userId, clock.now());
        await members.setMemberPhishingResistant(manager, userId, true);
      }),

    /**
     * As removing the last credential: the rule is checked under the organizations'
     * locks in the same transaction; refused while any organization requires it.
     */
    removeLastCredential: (userId: string) =>
      database.transaction(async (manager) => {
        await users.lock(manager, userId, clock.now());
        const requiring = await members.requiringPhishingResistant(manager, userId, { lock: true });
        if (requiring.length > 0) {
          throw new AppError(
            'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
            'An organization you belong to requires a security key or passkey.',
            {
              organizationIds: requiring,
            },
          );
        }
        await members.setMemberPhishingResistant(manager, userId, false);
      }),

    /** What the factor asks first, without locks (the friendly pre-check). */
    requiring: (userId: string) =>
      database.run((manager) => members.requiringPhishingResistant(manager, userId, { lock: false })),
  };
}
