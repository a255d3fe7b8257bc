import type { Identity } from './identity';
import { SetMembership, UpsertOrganization } from './operations';
import type { ServiceClient } from './service';

export const DEMO_ORGANIZATION = { id: 'demo-org', name: 'Demo', owner: 'demo-owner', members: 30 };

/**
 * Development: the demo organization, through the directory-sync API as the
 * upstream system would keep it (idempotent: run at every start). Waits for the
 * service to answer, up to `timeoutMs`.
 */
export async function seedDemoOrganization(service: ServiceClient, identity: Identity, timeoutMs = 60_000) {
  const { id, name, owner, members } = DEMO_ORGANIZATION;
  const deadline = Date.now() + timeoutMs;
  const token = () => identity.serviceToken('web-demo-seed', 'twofactor:directory');
  for (;;) {
    try {
      const answer = await service.request(UpsertOrganization, { id, name }, { token: await token() });
      if (answer.errors?.length) throw new Error(answer.errors[0].message);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const memberships = [
    { userId: owner, role: 'OWNER' as const },
    ...Array.from({ length: members }, (_, index) => ({ userId: `demo-member-${index + 1}`, role: 'MEMBER' as const })),
  ];
  const directoryToken = await token();
  for (const { userId, role } of memberships) {
    const answer = await service.request(
      SetMembership,
      { organizationId: id, userId, role },
      { token: directoryToken },
    );
    if (answer.errors?.length) throw new Error(`setMembership ${userId}: ${answer.errors[0].message}`);
  }
  return memberships.length;
}
