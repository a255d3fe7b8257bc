import 'reflect-metadata';
import { ModelRegistry } from '../../src/authenticators/model-catalog';
import { KeyJudge } from '../../src/organizations/key-judge';
import { KeySets } from '../../src/organizations/key-sets';
import { OrganizationPolicyService } from '../../src/organizations/organization-policy.service';
import { embeddedKit, type EmbeddedKit } from '../support/embedded-kit';

describe('the organization policy (embedded SQLite)', () => {
  let kit: EmbeddedKit;
  let policy: OrganizationPolicyService;
  const actor = { actorId: 'owner', clientIp: null };
  const caller = (subject: string) => ({ subject, scopes: new Set<string>() });

  async function organization(id: string, members: { userId: string; role: 'OWNER' | 'MEMBER'; twoFactor: boolean }[]) {
    const now = kit.clock.now();
    await kit.database.transaction(async (manager) => {
      await kit.organizations.insert(manager, id, id, now, '1');
      for (const member of members) {
        await kit.users.lock(manager, member.userId, now);
        await kit.users.update(manager, member.userId, { twoFactorEnabled: member.twoFactor });
        const state = { role: member.role, twoFactorEnabled: member.twoFactor, phishingResistant: false, keySetId: 0 };
        await kit.memberships.save(manager, { organizationId: id, userId: member.userId, ...state, createdAt: now });
        await kit.organizations.moveMember(manager, id, null, state);
      }
    });
  }

  beforeAll(async () => {
    kit = await embeddedKit();
    policy = new OrganizationPolicyService(
      kit.database,
      kit.organizations,
      kit.memberships,
      kit.audit,
      kit.clock,
      new KeyJudge(new KeySets(kit.database), new ModelRegistry()),
      new ModelRegistry(),
    );
  });
  afterAll(() => kit.close());

  it('refuses requireTwoFactor while an owner lacks two-factor, naming the owner', async () => {
    await organization('o1', [
      { userId: 'owner-a', role: 'OWNER', twoFactor: true },
      { userId: 'owner-b', role: 'OWNER', twoFactor: false },
    ]);
    await expect(policy.requireTwoFactor(caller('owner-a'), actor, 'o1', 0)).rejects.toMatchObject({
      code: 'OWNERS_WITHOUT_TWO_FACTOR',
      extensions: { userIds: ['owner-b'] },
    });
  });

  it('is FORBIDDEN alike for a non-owner and for an organization that does not exist', async () => {
    await organization('o2', [
      { userId: 'boss', role: 'OWNER', twoFactor: true },
      { userId: 'staff', role: 'MEMBER', twoFactor: false },
    ]);
    const notOwner = policy.requireTwoFactor(caller('staff'), actor, 'o2', 0).catch((error) => error);
    const unknown = policy.requireTwoFactor(caller('staff'), actor, 'no-such-org', 0).catch((error) => error);
    const [a, b] = await Promise.all([notOwner, unknown]);
    expect(a.code).toBe('FORBIDDEN');
    expect(b.code).toBe('FORBIDDEN');
    expect(a.message).toBe(b.message);
  });

  it('requires two-factor with a grace period, and sets it anew when asked again', async () => {
    await organization('o3', [{ userId: 'chief', role: 'OWNER', twoFactor: true }]);
    const first = await policy.requireTwoFactor(caller('chief'), actor, 'o3', 7);
    expect(first.requiresTwoFactor).toBe(true);
    expect(first.gracePeriodEndsAt?.getTime()).toBe(kit.clock.now().getTime() + 7 * 86_400_000);
    kit.clock.advance(86_400_000);
    const again = await policy.requireTwoFactor(caller('chief'), actor, 'o3', 0);
    expect(again.gracePeriodEndsAt).toBeNull();
  });
});
