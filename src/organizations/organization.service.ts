import { IDENTITY_PROVIDER_MFA_AMR, KEY_AMR, SECOND_FACTOR_AMR } from '../callers/amr';
import type { Caller } from '../callers/caller';
import { hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import { toPage } from '../graphql/connection';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import { decodeCursor, encodeCursor, pageSize } from '../pagination';
import { hasAcceptedKey } from './accepted-key';
import type { KeyJudge } from './key-judge';
import { type KeyKind, NO_KEYS } from './key-sets';
import type { AccessFacts, MembershipRepository } from './membership.repository';
import { OrganizationRole } from './organization-role';
import type { OrganizationRepository } from './organization.repository';
import {
  type MemberConnection,
  Member,
  type MemberFilter,
  Membership,
  type OrganizationAccess,
  OrganizationAccessReason,
  type OrganizationCompliance,
  OrganizationView,
} from './organization.types';

/**
 * What a session's amr says, as access needs it (login/amr.ts): the caller gave
 * sessionAmr, and it holds one of our second factors, or a key.
 */
export interface SessionFactors {
  secondFactor: boolean;
  key: boolean;
  /** "mfa": multi-factor done at the identity provider. */
  identityProviderMfa: boolean;
}

/**
 * How the sign-in being judged is known: from the caller's sessionAmr; `unsaid`
 * (organizationAccess without it: a phishing-resistant requirement fails closed);
 * or `strongest`, the member itself as if signed in with the strongest factor it
 * has (what an event about the member's own change reports, not a session).
 */
export type SignIn = SessionFactors | 'unsaid' | 'strongest';

const SESSION_AMR_VALUE = new RegExp(`^[\\x20-\\x7e]{1,${LIMITS.maxSessionAmrValueLength}}$`);

/** organizationAccess's sessionAmr, checked (BAD_USER_INPUT) and read; absent is `unsaid`. */
export function parseSessionAmr(sessionAmr: readonly unknown[] | null | undefined): SignIn {
  if (sessionAmr === null || sessionAmr === undefined) return 'unsaid';
  if (
    sessionAmr.length > LIMITS.maxSessionAmrValues ||
    !sessionAmr.every((value) => typeof value === 'string' && SESSION_AMR_VALUE.test(value))
  ) {
    throw badInput(
      `sessionAmr takes at most ${LIMITS.maxSessionAmrValues} values, each 1 to ${LIMITS.maxSessionAmrValueLength} printable ASCII characters.`,
      'sessionAmr',
    );
  }
  const amr = sessionAmr as readonly string[];
  return {
    secondFactor: amr.some((value) => SECOND_FACTOR_AMR.has(value)),
    key: amr.includes(KEY_AMR),
    identityProviderMfa: amr.includes(IDENTITY_PROVIDER_MFA_AMR),
  };
}

/** Whether the sign-in holds a factor the requirement accepts. */
function signInMeets(signIn: SignIn, phishingResistant: boolean): boolean {
  if (signIn === 'strongest') return true;
  if (signIn === 'unsaid') return !phishingResistant;
  return phishingResistant ? signIn.key : signIn.secondFactor;
}

/** Whether the sign-in says the identity provider did multi-factor (only a caller's sessionAmr can). */
const identityProviderMfaIn = (signIn: SignIn): boolean => typeof signIn === 'object' && signIn.identityProviderMfa;

const answer = (
  allowed: boolean,
  reason: OrganizationAccessReason,
  at: { graceEndsAt?: Date; exemptUntil?: Date } = {},
): OrganizationAccess => ({
  allowed,
  reason,
  graceEndsAt: at.graceEndsAt ?? null,
  exemptUntil: at.exemptUntil ?? null,
});

/**
 * A member's access to its organization at `now`, for a sign-in
 * (docs/adr/0012-access-per-sign-in.md, docs/adr/0020-requiring-as-a-lifecycle.md):
 * a user who has a factor the requirement accepts is let in by a sign-in with it;
 * an organization that accepts the identity provider's multi-factor lets in a
 * session holding "mfa" under an any-factor requirement, whoever the user is;
 * else a user who has an accepted factor is SESSION_FACTOR_NOT_ACCEPTED, and one
 * who has none is exempt, in its grace period, or refused, whatever the session says.
 */
export function decideAccess(facts: AccessFacts, now: Date, signIn: SignIn = 'strongest'): OrganizationAccess {
  if (!facts.requiresTwoFactor) return answer(true, OrganizationAccessReason.OK);
  const phishingResistant = facts.requiresPhishingResistant;
  const userHasAccepted = phishingResistant ? hasAcceptedKey(facts) : facts.twoFactorEnabled;
  if (userHasAccepted && signInMeets(signIn, phishingResistant)) return answer(true, OrganizationAccessReason.OK);
  if (!phishingResistant && facts.acceptsIdentityProviderMfa === true && identityProviderMfaIn(signIn)) {
    return answer(true, OrganizationAccessReason.IDENTITY_PROVIDER_MFA);
  }
  if (userHasAccepted) return answer(false, OrganizationAccessReason.SESSION_FACTOR_NOT_ACCEPTED);
  // No factor the requirement accepts: an exemption in force comes before the grace period.
  const exemptUntil = facts.exemptUntil;
  if (exemptUntil && exemptUntil > now) return answer(true, OrganizationAccessReason.EXEMPT, { exemptUntil });
  const graceEndsAt = facts.gracePeriodEndsAt;
  if (graceEndsAt && graceEndsAt > now) return answer(true, OrganizationAccessReason.GRACE_PERIOD, { graceEndsAt });
  return answer(
    false,
    phishingResistant
      ? OrganizationAccessReason.PHISHING_RESISTANT_REQUIRED
      : OrganizationAccessReason.TWO_FACTOR_REQUIRED,
  );
}

/** Reading organizations as the caller may see them, and the access answer. */
export class OrganizationService {
  constructor(
    private readonly database: Database,
    private readonly organizations: OrganizationRepository,
    private readonly memberships: MembershipRepository,
    private readonly clock: Clock,
    private readonly judge: KeyJudge,
  ) {}

  /** The organization for a member or a twofactor:read caller; null for anyone else or when it does not exist. */
  async view(caller: Caller, id: string): Promise<OrganizationView | null> {
    const reader = hasScope(caller, 'twofactor:read');
    const [record, membership] = await this.database.run((manager) =>
      Promise.all([
        this.organizations.find(manager, id),
        reader ? null : this.memberships.find(manager, id, caller.subject),
      ]),
    );
    if (!record) return null;
    if (reader) return OrganizationView.of(record, 'reader', this.clock.now());
    if (!membership) return null;
    return OrganizationView.of(record, membership.role === 'OWNER' ? 'owner' : 'member', this.clock.now());
  }

  /** For the audit log (OrganizationOwners): whether the user owns the organization, and its first event's id. */
  async ownedBy(userId: string, organizationId: string): Promise<{ auditEventsFrom: string | null } | null> {
    const [membership, organization] = await this.database.run((manager) =>
      Promise.all([
        this.memberships.find(manager, organizationId, userId),
        this.organizations.find(manager, organizationId),
      ]),
    );
    if (membership?.role !== 'OWNER' || !organization) return null;
    return { auditEventsFrom: organization.auditEventsFrom === null ? null : String(organization.auditEventsFrom) };
  }

  /** A user's memberships, each organization seen with the user's own role. */
  async membershipsOf(userId: string, caller: Caller): Promise<Membership[]> {
    return this.database.run(async (manager) => {
      const memberships = await this.memberships.findByUser(manager, userId);
      const records = await this.organizations.findMany(
        manager,
        memberships.map((m) => m.organizationId),
      );
      const byId = new Map(records.map((record) => [record.id, record]));
      const now = this.clock.now();
      return memberships.flatMap((membership) => {
        const record = byId.get(membership.organizationId);
        if (!record) return [];
        const viewer = hasScope(caller, 'twofactor:read') ? 'reader' : membership.role === 'OWNER' ? 'owner' : 'member';
        return [
          Object.assign(new Membership(), {
            organization: OrganizationView.of(record, viewer, now),
            role: membership.role as OrganizationRole,
            userId,
          }),
        ];
      });
    });
  }

  /**
   * Whether a registration of the user's should ask for attestation (`direct`):
   * the user owns an organization, or belongs to one with an allow-list
   * (contract "Authenticators").
   */
  async wantsAttestation(userId: string): Promise<boolean> {
    return this.database.run(async (manager) => {
      const memberships = await this.memberships.findByUser(manager, userId);
      if (memberships.some((membership) => membership.role === 'OWNER')) return true;
      const organizations = await this.organizations.findMany(
        manager,
        memberships.map((m) => m.organizationId),
      );
      return organizations.some((organization) => organization.allowedAaguids !== '');
    });
  }

  /**
   * For each user, whether a credential of a kind meets the authenticator policy
   * of every organization of the user that requires a phishing-resistant factor
   * (none: any key the loaded blob does not report compromised).
   */
  async keyAcceptance(userIds: readonly string[]): Promise<Map<string, (kind: KeyKind) => boolean>> {
    return this.database.run(async (manager) => {
      const answers = new Map<string, (kind: KeyKind) => boolean>();
      for (const userId of new Set(userIds)) {
        const memberships = await this.memberships.findByUser(manager, userId);
        const requiring = (
          await this.organizations.findMany(
            manager,
            memberships.map((m) => m.organizationId),
          )
        ).filter((organization) => organization.requiresTwoFactor && organization.requiresPhishingResistant);
        const policies = requiring.length > 0 ? requiring : [{ allowedAaguids: '', requireDeviceBound: false }];
        answers.set(userId, (kind) => policies.every((policy) => this.judge.accepts(policy, [kind])));
      }
      return answers;
    });
  }

  /**
   * The counters, with the phishing-resistant ones as the authenticator policy and
   * the loaded blob judge the organization's key sets now (KeyJudge.judged).
   */
  async compliance(organization: OrganizationView): Promise<OrganizationCompliance> {
    this.requireOwnerOrReader(organization);
    const { record, setIds } = await this.database.run((manager) =>
      this.judge.judgedWithSets(manager, organization.record),
    );
    const rejectedKeySetIds = setIds(false);
    const withTwoFactor = record.ownersWithTwoFactor + record.membersWithTwoFactor;
    const withoutTwoFactor = record.ownersWithoutTwoFactor + record.membersWithoutTwoFactor;
    const withoutPhishingResistant = record.ownersWithoutPhishingResistant + record.membersWithoutPhishingResistant;
    const short = record.requiresPhishingResistant ? withoutPhishingResistant : withoutTwoFactor;
    return {
      totalMembers: withTwoFactor + withoutTwoFactor,
      membersWithTwoFactor: withTwoFactor,
      membersWithoutTwoFactor: withoutTwoFactor,
      ownersWithoutTwoFactor: record.ownersWithoutTwoFactor,
      membersWithPhishingResistant: record.ownersWithPhishingResistant + record.membersWithPhishingResistant,
      ownersWithoutPhishingResistant: record.ownersWithoutPhishingResistant,
      compliant: !record.requiresTwoFactor || short === 0,
      organizationId: record.id,
      phishingResistant: record.requiresTwoFactor && record.requiresPhishingResistant,
      rejectedKeySetIds,
    };
  }

  /** Organization.ownersWithoutAcceptedAuthenticator: owners whose keys the policy does not accept, counted. */
  async ownersWithoutAcceptedAuthenticator(organization: OrganizationView): Promise<number> {
    this.requireOwnerOrReader(organization);
    const record = await this.database.run((manager) => this.judge.judged(manager, organization.record));
    return record.ownersWithoutPhishingResistant;
  }

  /** A page of members ordered by user id: an index range scan; the total comes from the maintained counts. */
  async members(
    organization: OrganizationView,
    first: number | null | undefined,
    after: string | null | undefined,
    filter: MemberFilter | null | undefined,
  ): Promise<MemberConnection> {
    this.requireOwnerOrReader(organization);
    const limit = pageSize(first);
    const phishingResistant = filter?.phishingResistant ?? undefined;
    // Cursors of lists without the phishing-resistant filter keep the form they had before it existed.
    const list = `members:${organization.id}:${filter?.twoFactorEnabled ?? '*'}:${filter?.role ?? '*'}${phishingResistant === undefined ? '' : `:pr=${phishingResistant}`}`;
    const afterUserId = decodeCursor(after, list);
    // Phishing-resistant as the policy and the blob judge each key set now: the sets it accepts (or not).
    const [rows, judged] = await this.database.run(async (manager) => {
      const sets =
        phishingResistant === undefined ? undefined : await this.judge.judgedWithSets(manager, organization.record);
      // Every key counting, the copy of "has a key" is the judgment (its own indexes); else the sets judged.
      const byKeySets = sets !== undefined && !sets.anyKey;
      const rows = await this.memberships.page(manager, {
        organizationId: organization.id,
        afterUserId,
        limit: limit + 1,
        twoFactorEnabled: filter?.twoFactorEnabled ?? undefined,
        phishingResistant: byKeySets ? undefined : phishingResistant,
        keySetIds: byKeySets ? sets.setIds(phishingResistant!) : undefined,
        role: filter?.role ?? undefined,
      });
      return [rows, sets?.record ?? organization.record] as const;
    });
    const page = toPage(rows, limit, (row) => ({
      cursor: encodeCursor(list, row.userId),
      node: Member.of(organization, row),
    }));
    return { ...page, totalCount: this.countMatching(judged, filter) };
  }

  /**
   * The hottest read, asked on every request to an organization: one query, a
   * primary-key lookup of the membership joined to its organization. Nothing is
   * cached, so every change (policy, membership, the member's two-factor or
   * phishing-resistance) shows at once. `sessionAmr`: how the session the
   * caller acts in signed in; without it a phishing-resistant requirement
   * fails closed for a member who has a key.
   */
  async access(
    organizationId: string,
    userId: string,
    sessionAmr?: readonly string[] | null,
  ): Promise<OrganizationAccess> {
    const signIn = parseSessionAmr(sessionAmr);
    const facts = await this.database.run((manager) => this.memberships.accessFacts(manager, organizationId, userId));
    if (!facts) return answer(false, OrganizationAccessReason.NOT_A_MEMBER);
    return decideAccess(this.judged(facts), this.clock.now(), signIn);
  }

  /** The facts with phishingResistant as the organization's policy and the loaded blob judge the member's keys. */
  judged(facts: AccessFacts): AccessFacts {
    const keySetId = facts.keySetId ?? NO_KEYS;
    const kinds = this.judge.keySets.remember(keySetId, facts.keySetKinds ?? null);
    const policy = {
      allowedAaguids: facts.allowedAaguids ?? '',
      requireDeviceBound: facts.requireDeviceBound ?? false,
    };
    return { ...facts, phishingResistant: keySetId !== NO_KEYS && this.judge.accepts(policy, kinds) };
  }

  /**
   * How many members match the filter, from the maintained counters: for each role,
   * the four combinations of two-factor and phishing-resistance, each exact
   * (OrganizationRepository.moveMember counts every member in its cells).
   */
  private countMatching(record: OrganizationView['record'], filter: MemberFilter | null | undefined): number {
    const cells = (
      role: OrganizationRole,
      withTwoFactor: number,
      withoutTwoFactor: number,
      phishingResistant: number,
      phishingResistantOnly: number,
    ) => {
      const both = phishingResistant - phishingResistantOnly;
      return [
        { role, twoFactorEnabled: true, phishingResistant: true, count: both },
        { role, twoFactorEnabled: true, phishingResistant: false, count: withTwoFactor - both },
        { role, twoFactorEnabled: false, phishingResistant: true, count: phishingResistantOnly },
        { role, twoFactorEnabled: false, phishingResistant: false, count: withoutTwoFactor - phishingResistantOnly },
      ];
    };
    const counts = [
      ...cells(
        OrganizationRole.OWNER,
        record.ownersWithTwoFactor,
        record.ownersWithoutTwoFactor,
        record.ownersWithPhishingResistant,
        record.ownersPhishingResistantWithoutTwoFactor,
      ),
      ...cells(
        OrganizationRole.MEMBER,
        record.membersWithTwoFactor,
        record.membersWithoutTwoFactor,
        record.membersWithPhishingResistant,
        record.membersPhishingResistantWithoutTwoFactor,
      ),
    ];
    return counts
      .filter(
        (c) =>
          (filter?.role ?? c.role) === c.role &&
          (filter?.twoFactorEnabled ?? c.twoFactorEnabled) === c.twoFactorEnabled &&
          (filter?.phishingResistant ?? c.phishingResistant) === c.phishingResistant,
      )
      .reduce((sum, c) => sum + c.count, 0);
  }

  private requireOwnerOrReader(organization: OrganizationView): void {
    if (organization.viewer === 'member') {
      throw new AppError('FORBIDDEN', "Only the organization's owners and twofactor:read callers see this.");
    }
  }
}
