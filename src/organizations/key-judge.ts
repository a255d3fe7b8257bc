import type { EntityManager } from 'typeorm';
import { OrganizationKeySetCountRecord } from './key-set.entity';
import { type CompromiseReport, type KeyKind, type KeySets, NO_KEYS, acceptsKinds, policyOf } from './key-sets';
import type { OrganizationRecord } from './organization.entity';

/** The loaded Metadata Service blob as the judge reads it: swapped whole (authenticators' ModelRegistry). */
export interface CurrentReport {
  readonly current: CompromiseReport & { readonly compromisedAaguids?: readonly string[] };
}

/** An organization's policy, as stored. */
type PolicyColumns = Pick<OrganizationRecord, 'allowedAaguids' | 'requireDeviceBound'>;

/**
 * Whether a member's keys meet an organization's authenticator policy, judged
 * when read against the policy and the blob loaded now (docs/adr/0021-key-sets.md):
 * a new blob, or a new policy, changes every answer at once, and no row.
 */
export class KeyJudge {
  constructor(
    readonly keySets: KeySets,
    private readonly report: CurrentReport,
  ) {}

  /**
   * Whether every key meets the organization's policy now: no allow-list, no
   * device-bound rule, and no model reported compromised in the loaded blob. Then
   * the judgment is "has a key" (key set not 0), which the stored phishing-resistant
   * counters and the `phishing_resistant` copy already say: no count row to read.
   */
  everyKeyCounts(organization: PolicyColumns): boolean {
    return (
      organization.allowedAaguids === '' &&
      !organization.requireDeviceBound &&
      (this.report.current.compromisedAaguids?.length ?? 1) === 0
    );
  }

  accepts(organization: PolicyColumns, kinds: readonly KeyKind[]): boolean {
    return acceptsKinds(policyOf(organization), this.report.current, kinds);
  }

  async acceptsSet(manager: EntityManager, organization: PolicyColumns, keySetId: number): Promise<boolean> {
    if (keySetId === NO_KEYS) return false;
    const kinds = (await this.keySets.kindsOf(manager, [keySetId])).get(keySetId) ?? [];
    return this.accepts(organization, kinds);
  }

  /** The organization's key sets with members (its few count rows), each judged. */
  async judgedSets(
    manager: EntityManager,
    organization: Pick<OrganizationRecord, 'id'> & PolicyColumns,
  ): Promise<{ counts: OrganizationKeySetCountRecord[]; accepted: Set<number> }> {
    const counts = (
      await manager.find(OrganizationKeySetCountRecord, { where: { organizationId: organization.id } })
    ).filter((row) => row.members !== 0);
    const kinds = await this.keySets.kindsOf(
      manager,
      counts.map((row) => row.keySetId),
    );
    const accepted = new Set<number>();
    for (const [id, set] of kinds) if (id !== NO_KEYS && this.accepts(organization, set)) accepted.add(id);
    return { counts, accepted };
  }

  /** The ids of the organization's key sets that meet (or do not meet) the policy; no key never does. */
  async setIds(manager: EntityManager, organization: OrganizationRecord, accepted: boolean): Promise<number[]> {
    return (await this.judgedWithSets(manager, organization)).setIds(accepted);
  }

  /**
   * The judged organization (as `judged`) and its key sets that meet the policy or
   * not (as `setIds`), from one read of its count rows; none when every key counts
   * (`everyKeyCounts`: the stored counters are the judgment, and the sets not
   * not accepted are "no key", and those accepted "any key": `anyKey`, for the
   * readers that then read the `phishing_resistant` copy instead).
   */
  async judgedWithSets(
    manager: EntityManager,
    organization: OrganizationRecord,
  ): Promise<{ record: OrganizationRecord; setIds(accepted: boolean): number[]; anyKey: boolean }> {
    if (this.everyKeyCounts(organization)) {
      return { record: organization, setIds: (accepted) => (accepted ? [] : [NO_KEYS]), anyKey: true };
    }
    const judged = await this.judgedSets(manager, organization);
    return {
      record: this.sum(organization, judged),
      setIds: (accepted) => {
        const ids = new Set(judged.counts.map((row) => row.keySetId));
        if (!accepted) ids.add(NO_KEYS);
        return [...ids].filter((id) => judged.accepted.has(id) === accepted).sort((a, b) => a - b);
      },
      anyKey: false,
    };
  }

  /**
   * The organization with its phishing-resistant counters as the policy and the
   * blob judge them now (the stored ones count any key): from its few key-set
   * count rows, so exact and flat at any size.
   */
  async judged(manager: EntityManager, organization: OrganizationRecord): Promise<OrganizationRecord> {
    return (await this.judgedWithSets(manager, organization)).record;
  }

  private sum(
    organization: OrganizationRecord,
    { counts, accepted }: { counts: OrganizationKeySetCountRecord[]; accepted: Set<number> },
  ): OrganizationRecord {
    const totals = {
      ownersWithPhishingResistant: 0,
      ownersWithoutPhishingResistant: 0,
      membersWithPhishingResistant: 0,
      membersWithoutPhishingResistant: 0,
      ownersPhishingResistantWithoutTwoFactor: 0,
      membersPhishingResistantWithoutTwoFactor: 0,
    };
    const everyone = {
      OWNER: organization.ownersWithTwoFactor + organization.ownersWithoutTwoFactor,
      MEMBER: organization.membersWithTwoFactor + organization.membersWithoutTwoFactor,
    };
    for (const row of counts) {
      if (!accepted.has(row.keySetId)) continue;
      const who = row.role === 'OWNER' ? 'owners' : 'members';
      totals[`${who}WithPhishingResistant`] += row.members;
      if (!row.twoFactorEnabled) totals[`${who}PhishingResistantWithoutTwoFactor`] += row.members;
    }
    totals.ownersWithoutPhishingResistant = everyone.OWNER - totals.ownersWithPhishingResistant;
    totals.membersWithoutPhishingResistant = everyone.MEMBER - totals.membersWithPhishingResistant;
    return Object.assign(
      Object.create(Object.getPrototypeOf(organization)) as OrganizationRecord,
      organization,
      totals,
    );
  }
}
