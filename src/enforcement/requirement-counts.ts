import type { EntityManager } from 'typeorm';
import type { KeyJudge } from '../organizations/key-judge';
import type { OrganizationRecord } from '../organizations/organization.entity';
import type { ExemptionRepository } from './exemption.repository';

/** Who a requirement holds, counted: owners and members without a factor it accepts, the exempt among them. */
export interface RequirementCount {
  ownersWithout: number;
  membersWithout: number;
  exempt: number;
  /** Refused (or in grace) once it applies: without an accepted factor and not exempt. */
  affected: number;
}

/**
 * The counts that compliance, the preview and the reminders share, so they
 * agree: who lacks an accepted factor comes from the organization's maintained
 * counters (the same ones compliance reads), the exempt among them from the
 * exemptions in force (a range of their index). Exact at any size; the work
 * grows only with the exemptions in force.
 */
export class RequirementCounts {
  constructor(
    private readonly exemptions: ExemptionRepository,
    private readonly judge: KeyJudge,
  ) {}

  async of(
    manager: EntityManager,
    organization: OrganizationRecord,
    now: Date,
    phishingResistant: boolean,
  ): Promise<RequirementCount> {
    // Phishing-resistant: the key sets as the authenticator policy and the loaded blob judge them now.
    let without: number[] | null = null;
    if (phishingResistant) {
      const judged = await this.judge.judgedWithSets(manager, organization);
      [organization, without] = [judged.record, judged.setIds(false)];
    }
    const ownersWithout = phishingResistant
      ? organization.ownersWithoutPhishingResistant
      : organization.ownersWithoutTwoFactor;
    const membersWithout = phishingResistant
      ? organization.membersWithoutPhishingResistant
      : organization.membersWithoutTwoFactor;
    const exempt = await this.exemptions.countExemptWithout(manager, organization.id, now, without);
    return { ownersWithout, membersWithout, exempt, affected: ownersWithout + membersWithout - exempt };
  }

  /** Whom the organization's own requirement (any factor unless phishing-resistant) holds. */
  ofCurrent(manager: EntityManager, organization: OrganizationRecord, now: Date): Promise<RequirementCount> {
    return this.of(
      manager,
      organization,
      now,
      organization.requiresTwoFactor && organization.requiresPhishingResistant,
    );
  }

  async affected(manager: EntityManager, organization: OrganizationRecord, now: Date): Promise<number> {
    return (await this.ofCurrent(manager, organization, now)).affected;
  }
}
