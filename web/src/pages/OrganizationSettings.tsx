import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { problemOf, type Problem } from '../api';
import { ProblemMessage } from '../components/ProblemMessage';
import { formatDate, formatDay, usePageHeading } from '../hooks';
import {
  AuthenticatorModelsQuery,
  EndTwoFactorExemption,
  ExemptFromTwoFactor,
  ExemptionsQuery,
  KeysNotAcceptedQuery,
  MeQuery,
  OrganizationComplianceQuery,
  OrganizationPolicyQuery,
  RequirementPreviewQuery,
  RequirePhishingResistantTwoFactor,
  RequireTwoFactor,
  SetAcceptsIdentityProviderMfa,
  SetAuthenticatorPolicy,
  SetTrustedDevicesAllowed,
  StopRequiringTwoFactor,
} from '../operations';
import { Link } from '../router';

const PAGE_SIZE = 10;
/** An exemption ends at most this many days ahead (the service's LIMITS.maxExemptionDays). */
const MAX_EXEMPTION_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;
const GRACE_PERIODS = [
  { days: 0, label: 'None: it applies now' },
  { days: 1, label: '1 day' },
  { days: 7, label: '7 days' },
  { days: 14, label: '14 days' },
  { days: 30, label: '30 days' },
];

/** Organization settings, "Authentication": the two-factor policy; owners also see compliance and members. */
export function OrganizationSettings({ organizationId }: { organizationId: string }) {
  const heading = usePageHeading('Authentication');
  const [me] = useQuery({ query: MeQuery });
  const [policy, reexecutePolicy] = useQuery({ query: OrganizationPolicyQuery, variables: { id: organizationId } });
  const membership = me.data?.me.memberships.find((m) => m.organization.id === organizationId);
  const owner = membership?.role === 'OWNER';
  const organization = policy.data?.organization;
  const [message, setMessage] = useState<string | null>(null);
  // Bumped after every change an owner makes here: the preview, the exemptions and compliance read again.
  const [version, setVersion] = useState(0);
  const changed = (text: string) => {
    setMessage(text);
    setVersion((current) => current + 1);
    reexecutePolicy({ requestPolicy: 'network-only' });
  };

  return (
    <div className="page">
      <h1 ref={heading} tabIndex={-1}>
        Authentication
      </h1>
      {organization ? (
        <p className="lead">
          Organization settings for <strong>{organization.name}</strong> ({organization.id})
          {membership ? `; you are ${owner ? 'an owner' : 'a member'}.` : '.'}
        </p>
      ) : policy.fetching ? (
        <p>Loading…</p>
      ) : policy.error ? (
        <ProblemMessage problem={problemOf(policy.error)} />
      ) : (
        <p role="alert">
          No organization <strong>{organizationId}</strong> is visible to you.{' '}
          <Link to="/account">Back to your account</Link>.
        </p>
      )}
      {message && (
        <p className="success" role="status">
          {message}
        </p>
      )}
      {organization && (
        <>
          <section className="card" aria-labelledby="policy-heading">
            <h2 id="policy-heading">Two-factor policy</h2>
            <PolicyStatus organization={organization} />
            {owner ? (
              <PolicyForm organization={organization} version={version} onChanged={changed} />
            ) : (
              <p className="help">Only owners of {organization.name} can change this.</p>
            )}
            {!owner && membership?.exemptUntil && (
              <p className="notice" id="my-exemption">
                An owner exempted you from {organization.name}&apos;s requirement until{' '}
                <strong>{formatDate(membership.exemptUntil)}</strong>. Set up two-factor authentication before then.
              </p>
            )}
            {!owner && organization.requiresTwoFactor && membership && me.data?.me.twoFactor.enabled === false && (
              <p>
                Set up two-factor authentication in <Link to="/account">your account settings</Link> to keep your
                access.
              </p>
            )}
          </section>
          {owner && <Exemptions organization={organization} version={version} onChanged={changed} />}
          <section className="card" aria-labelledby="keys-policy-heading">
            <h2 id="keys-policy-heading">Which security keys count</h2>
            <KeyPolicyStatus organization={organization} />
            {owner && <KeyPolicyForm organization={organization} onChanged={changed} />}
            {owner && <KeysNotAccepted organizationId={organization.id} version={version} />}
          </section>
          <section className="card" aria-labelledby="identity-provider-heading">
            <h2 id="identity-provider-heading">Identity provider</h2>
            <p id="identity-provider-status">
              {organization.acceptsIdentityProviderMfa
                ? `Multi-factor done at ${organization.name}'s identity provider counts as two-factor here (never where a security key is required).`
                : `Multi-factor done at ${organization.name}'s identity provider does not count: members use a method of their own here.`}
            </p>
            {owner && <IdentityProviderSetting organization={organization} onChanged={changed} />}
          </section>
          <section className="card" aria-labelledby="devices-heading">
            <h2 id="devices-heading">Trusted devices</h2>
            <p id="devices-status">
              {organization.allowsTrustedDevices
                ? `Members of ${organization.name} may skip the second step on browsers they chose to remember.`
                : `Members of ${organization.name} are asked for their second step at every sign-in: remembered browsers do not count.`}
            </p>
            {owner && <TrustedDevicesSetting organization={organization} onChanged={changed} />}
          </section>
          {owner && (
            <Compliance organizationId={organizationId} required={organization.requiresTwoFactor} version={version} />
          )}
        </>
      )}
    </div>
  );
}

interface Policy {
  id: string;
  name: string;
  requiresTwoFactor: boolean;
  requiresPhishingResistantTwoFactor: boolean;
  twoFactorRequiredSince?: string | null;
  gracePeriodEndsAt?: string | null;
  allowsTrustedDevices: boolean;
  acceptsIdentityProviderMfa: boolean;
  authenticatorPolicy?: { allowedAaguids: string[]; requireDeviceBound: boolean };
}

/** Reads a query again, from the service, whenever `version` moves on (after a change made on this page). */
function useRefreshed(version: number, reexecute: (options: { requestPolicy: 'network-only' }) => void) {
  const seen = useRef(version);
  useEffect(() => {
    if (version === seen.current) return;
    seen.current = version;
    reexecute({ requestPolicy: 'network-only' });
  }, [version, reexecute]);
}

/** A day `offset` days from now as a date input takes it (YYYY-MM-DD, the browser's time zone). */
function dayFromNow(offset: number): string {
  const date = new Date(Date.now() + offset * DAY_MS);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function PolicyStatus({ organization }: { organization: Policy }) {
  if (!organization.requiresTwoFactor) {
    return (
      <p className="status-off" id="policy-status">
        <strong>{organization.name} does not require two-factor authentication.</strong> Members may turn it on for
        themselves.
      </p>
    );
  }
  return (
    <div id="policy-status" className="status-on">
      <p>
        <strong>
          {organization.name} requires two-factor authentication
          {organization.requiresPhishingResistantTwoFactor
            ? ' with a security key or passkey (phishing-resistant)'
            : ''}
        </strong>{' '}
        since {formatDate(organization.twoFactorRequiredSince)}.
      </p>
      <p>
        {organization.gracePeriodEndsAt
          ? `Members without it keep their access until the grace period ends on ${formatDay(organization.gracePeriodEndsAt)}.`
          : 'No grace period: members without it cannot use the organization until they set it up.'}
      </p>
    </div>
  );
}

function PolicyForm({
  organization,
  version,
  onChanged,
}: {
  organization: Policy;
  version: number;
  onChanged: (message: string) => void;
}) {
  const [grace, setGrace] = useState(0);
  const [phishingResistant, setPhishingResistant] = useState(organization.requiresPhishingResistantTwoFactor);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState(false);
  const [, requireTwoFactor] = useMutation(RequireTwoFactor);
  const [, requirePhishingResistant] = useMutation(RequirePhishingResistantTwoFactor);
  const [, stop] = useMutation(StopRequiringTwoFactor);

  const require = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const variables = { organizationId: organization.id, gracePeriodDays: grace };
    const result = phishingResistant ? await requirePhishingResistant(variables) : await requireTwoFactor(variables);
    setBusy(false);
    if (result.error) return setProblem(problemOf(result.error));
    onChanged(
      `${organization.name} now requires two-factor authentication${phishingResistant ? ' with a security key or passkey' : ''}${
        grace ? `, with a grace period of ${grace} day${grace === 1 ? '' : 's'}` : ''
      }.`,
    );
  };

  const stopRequiring = async () => {
    setBusy(true);
    setProblem(undefined);
    const result = await stop({ organizationId: organization.id });
    setBusy(false);
    if (result.error) return setProblem(problemOf(result.error));
    onChanged(`${organization.name} no longer requires two-factor authentication.`);
  };

  return (
    <form onSubmit={(event) => void require(event)} className="policy-form">
      <label htmlFor="grace-period">Grace period</label>
      <p className="help" id="grace-period-help">
        How long members without two-factor keep their access
        {organization.requiresTwoFactor ? ' (starts again from now)' : ''}.
      </p>
      <select
        id="grace-period"
        aria-describedby="grace-period-help"
        value={grace}
        onChange={(event) => setGrace(Number(event.target.value))}
      >
        {GRACE_PERIODS.map(({ days, label }) => (
          <option key={days} value={days}>
            {label}
          </option>
        ))}
      </select>
      <p className="checkbox">
        <input
          id="phishing-resistant"
          type="checkbox"
          checked={phishingResistant}
          onChange={(event) => setPhishingResistant(event.target.checked)}
        />
        <label htmlFor="phishing-resistant">
          Only security keys and passkeys (phishing-resistant): authenticator apps and SMS are not enough
        </label>
      </p>
      <RequirementPreview
        organizationId={organization.id}
        phishingResistant={phishingResistant}
        graceDays={grace}
        version={version}
      />
      <ProblemMessage problem={problem} />
      <div className="buttons">
        <button type="submit" disabled={busy}>
          {organization.requiresTwoFactor ? 'Update requirement' : 'Require two-factor'}
        </button>
        {organization.requiresTwoFactor && (
          <button type="button" className="danger" disabled={busy} onClick={() => void stopRequiring()}>
            Stop requiring two-factor
          </button>
        )}
      </div>
    </form>
  );
}

/** What requiring would do now (previewTwoFactorRequirement): who blocks it, and whom it would lock out, by name. */
function RequirementPreview({
  organizationId,
  phishingResistant,
  graceDays,
  version,
}: {
  organizationId: string;
  phishingResistant: boolean;
  graceDays: number;
  version: number;
}) {
  const [{ data, error }, reexecute] = useQuery({
    query: RequirementPreviewQuery,
    variables: { id: organizationId, phishingResistant, first: PAGE_SIZE },
  });
  useRefreshed(version, reexecute);
  const preview = data?.previewTwoFactorRequirement;
  const factor = phishingResistant ? 'a security key or passkey' : 'two-factor authentication';
  const factorNoun = phishingResistant ? 'security key or passkey' : 'two-factor authentication';
  const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  return (
    <div className="preview" role="region" aria-labelledby="preview-heading">
      <h3 id="preview-heading" className="small-heading">
        Before you require it
      </h3>
      {error && <ProblemMessage problem={problemOf(error)} />}
      {preview && (
        <>
          {preview.ownersBlockingCount > 0 && (
            <p className="warning" id="preview-owners">
              It can&apos;t be required yet: <strong>{preview.ownersBlocking.join(', ')}</strong>
              {preview.ownersBlockingCount > preview.ownersBlocking.length
                ? ` and ${preview.ownersBlockingCount - preview.ownersBlocking.length} more owners`
                : ''}{' '}
              {preview.ownersBlockingCount === 1 ? 'has' : 'have'} no {factorNoun} yet.
            </p>
          )}
          <p id="preview-summary">
            {preview.membersAffected === 0
              ? `Nobody would be blocked: every member has ${factor} or is exempt.`
              : `${plural(preview.membersAffected, 'member', 'members')} of ${preview.totalMembers} would be ${
                  graceDays > 0
                    ? `blocked when the grace period of ${plural(graceDays, 'day', 'days')} ends`
                    : 'blocked at once'
                }: no ${factor}, no exemption.`}{' '}
            {preview.membersExempt > 0 &&
              `${plural(preview.membersExempt, 'member is', 'members are')} exempt for now.`}
          </p>
          {preview.affectedMembers.edges.length > 0 && (
            <ul className="affected" aria-label="Who would be blocked">
              {preview.affectedMembers.edges.map(({ node, cursor }) => (
                <li key={cursor}>
                  {node.user.id}
                  {node.role === 'OWNER' ? ' (owner)' : ''}
                </li>
              ))}
              {preview.affectedMembers.totalCount > preview.affectedMembers.edges.length && (
                <li>and {preview.affectedMembers.totalCount - preview.affectedMembers.edges.length} more</li>
              )}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

/** Owners exempt members for a while, with a reason, and end exemptions (exemptFromTwoFactor, endTwoFactorExemption). */
function Exemptions({
  organization,
  version,
  onChanged,
}: {
  organization: Policy;
  version: number;
  onChanged: (message: string) => void;
}) {
  const [{ data, error }, reexecute] = useQuery({ query: ExemptionsQuery, variables: { id: organization.id } });
  useRefreshed(version, reexecute);
  const [, exempt] = useMutation(ExemptFromTwoFactor);
  const [, end] = useMutation(EndTwoFactorExemption);
  const [userId, setUserId] = useState('');
  const [until, setUntil] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState(false);
  const exemptions = data?.organization?.twoFactorExemptions;
  // The date input's bounds, in the browser's time zone: tomorrow to the last whole day within 90 days.
  const [bounds] = useState(() => ({ min: dayFromNow(1), max: dayFromNow(MAX_EXEMPTION_DAYS - 1) }));

  const grant = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    // The end of the chosen day, in the browser's time zone (at most 90 days ahead).
    const endsAt = new Date(
      Math.min(new Date(`${until}T23:59:59`).getTime(), Date.now() + MAX_EXEMPTION_DAYS * DAY_MS),
    );
    const result = await exempt({
      organizationId: organization.id,
      userId: userId.trim(),
      until: endsAt.toISOString(),
      reason,
    });
    setBusy(false);
    if (result.error) return setProblem(problemOf(result.error));
    setUserId('');
    setReason('');
    onChanged(`${userId.trim()} is exempt from the requirement until ${formatDate(endsAt.toISOString())}.`);
  };

  const stop = async (member: string) => {
    setProblem(undefined);
    const result = await end({ organizationId: organization.id, userId: member });
    if (result.error) return setProblem(problemOf(result.error));
    onChanged(`${member}'s exemption has ended.`);
  };

  return (
    <section className="card" aria-labelledby="exemptions-heading">
      <h2 id="exemptions-heading">Exemptions</h2>
      <p className="help">
        A member you exempt keeps access without two-factor until the day you choose (at most {MAX_EXEMPTION_DAYS}{' '}
        days); owners cannot be exempt. It ends by itself, or when you end it.
      </p>
      {error && <ProblemMessage problem={problemOf(error)} />}
      {exemptions && (
        <table>
          <caption>
            {exemptions.totalCount === 0
              ? 'Nobody is exempt.'
              : `${exemptions.totalCount} exemption${exemptions.totalCount === 1 ? '' : 's'}, soonest end first`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Until</th>
              <th scope="col">Reason</th>
              <th scope="col">Granted by</th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {exemptions.edges.map(({ node, cursor }) => (
              <tr key={cursor}>
                <td>{node.userId}</td>
                <td>{formatDate(node.endsAt)}</td>
                <td>{node.reason}</td>
                <td>{node.grantedBy}</td>
                <td>
                  <button type="button" className="secondary" onClick={() => void stop(node.userId)}>
                    End exemption<span className="visually-hidden"> for {node.userId}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={(event) => void grant(event)} className="exemption-form">
        <label htmlFor="exempt-user">Member&apos;s user ID</label>
        <input
          id="exempt-user"
          value={userId}
          required
          autoComplete="off"
          onChange={(event) => setUserId(event.target.value)}
        />
        <label htmlFor="exempt-until">Exempt until (the end of that day)</label>
        <input
          id="exempt-until"
          type="date"
          value={until}
          min={bounds.min}
          max={bounds.max}
          required
          onChange={(event) => setUntil(event.target.value)}
        />
        <label htmlFor="exempt-reason">Reason</label>
        <p className="help" id="exempt-reason-help">
          Kept in the audit log, shown to owners.
        </p>
        <input
          id="exempt-reason"
          value={reason}
          maxLength={500}
          required
          aria-describedby="exempt-reason-help"
          onChange={(event) => setReason(event.target.value)}
        />
        <ProblemMessage problem={problem} />
        <div className="buttons">
          <button type="submit" disabled={busy}>
            Exempt member
          </button>
        </div>
      </form>
    </section>
  );
}

function IdentityProviderSetting({
  organization,
  onChanged,
}: {
  organization: Policy;
  onChanged: (message: string) => void;
}) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [{ fetching }, setAccepts] = useMutation(SetAcceptsIdentityProviderMfa);
  const accept = !organization.acceptsIdentityProviderMfa;

  const change = async () => {
    setProblem(undefined);
    const result = await setAccepts({ organizationId: organization.id, accepts: accept });
    if (result.error) return setProblem(problemOf(result.error));
    onChanged(
      accept
        ? `Multi-factor done at ${organization.name}'s identity provider counts as two-factor now.`
        : `Multi-factor done at ${organization.name}'s identity provider no longer counts.`,
    );
  };

  return (
    <>
      <ProblemMessage problem={problem} />
      <div className="buttons">
        <button
          type="button"
          className={accept ? 'secondary' : 'danger'}
          disabled={fetching}
          onClick={() => void change()}
        >
          {accept ? 'Accept identity provider MFA' : 'Stop accepting identity provider MFA'}
        </button>
      </div>
    </>
  );
}

function TrustedDevicesSetting({
  organization,
  onChanged,
}: {
  organization: Policy;
  onChanged: (message: string) => void;
}) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [{ fetching }, setAllowed] = useMutation(SetTrustedDevicesAllowed);
  const allow = !organization.allowsTrustedDevices;

  const change = async () => {
    setProblem(undefined);
    const result = await setAllowed({ organizationId: organization.id, allowed: allow });
    if (result.error) return setProblem(problemOf(result.error));
    onChanged(
      allow
        ? `Remembered browsers count again for ${organization.name}'s members (those not expired).`
        : `${organization.name}'s members are asked for their second step at every sign-in now.`,
    );
  };

  return (
    <>
      <ProblemMessage problem={problem} />
      <div className="buttons">
        <button
          type="button"
          className={allow ? 'secondary' : 'danger'}
          disabled={fetching}
          onClick={() => void change()}
        >
          {allow ? 'Allow remembered browsers' : 'Forbid remembered browsers'}
        </button>
      </div>
    </>
  );
}

function Compliance({
  organizationId,
  required,
  version,
}: {
  organizationId: string;
  required: boolean;
  version: number;
}) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1];
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: OrganizationComplianceQuery,
    variables: { id: organizationId, first: PAGE_SIZE, after },
  });
  useRefreshed(version, reexecute);
  const compliance = data?.organization?.compliance;
  const members = data?.organization?.members;
  const page = cursors.length;
  const pages = members ? Math.max(1, Math.ceil(members.totalCount / PAGE_SIZE)) : 1;

  return (
    <>
      <section className="card" aria-labelledby="compliance-heading">
        <h2 id="compliance-heading">Compliance</h2>
        {error && <ProblemMessage problem={problemOf(error)} />}
        {compliance && (
          <>
            <p className={compliance.compliant ? 'status-on' : 'status-off'}>
              <strong>
                {!required
                  ? 'Two-factor is not required, so every member complies.'
                  : compliance.compliant
                    ? 'Compliant: every member meets the policy.'
                    : 'Not compliant: some members do not meet the policy yet.'}
              </strong>
            </p>
            <dl className="counts">
              <div>
                <dt>Members</dt>
                <dd>{compliance.totalMembers}</dd>
              </div>
              <div>
                <dt>With two-factor</dt>
                <dd>{compliance.membersWithTwoFactor}</dd>
              </div>
              <div>
                <dt>Without two-factor</dt>
                <dd>{compliance.membersWithoutTwoFactor}</dd>
              </div>
              <div>
                <dt>Owners without two-factor</dt>
                <dd>{compliance.ownersWithoutTwoFactor}</dd>
              </div>
              <div>
                <dt>With a security key or passkey</dt>
                <dd>{compliance.membersWithPhishingResistant}</dd>
              </div>
              <div>
                <dt>Owners without a security key</dt>
                <dd>{compliance.ownersWithoutPhishingResistant}</dd>
              </div>
              <div>
                <dt>Exempt</dt>
                <dd>{compliance.membersExempt}</dd>
              </div>
            </dl>
          </>
        )}
      </section>
      <section className="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members without two-factor</h2>
        {members && (
          <>
            <table>
              <caption>
                {members.totalCount} member{members.totalCount === 1 ? '' : 's'} without two-factor; page {page} of{' '}
                {pages}
              </caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Exempt until</th>
                </tr>
              </thead>
              <tbody>
                {members.edges.map(({ node, cursor }) => (
                  <tr key={cursor}>
                    <td>{node.user.id}</td>
                    <td>{node.role === 'OWNER' ? 'Owner' : 'Member'}</td>
                    <td>{node.exemptUntil ? formatDate(node.exemptUntil) : 'not exempt'}</td>
                  </tr>
                ))}
                {members.edges.length === 0 && (
                  <tr>
                    <td colSpan={3}>Everyone has two-factor authentication.</td>
                  </tr>
                )}
              </tbody>
            </table>
            <nav className="pager" aria-label="Members pages">
              <button
                type="button"
                className="secondary"
                disabled={page === 1 || fetching}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                Previous page
              </button>
              <button
                type="button"
                className="secondary"
                disabled={!members.pageInfo.hasNextPage || fetching}
                onClick={() => setCursors([...cursors, members.pageInfo.endCursor ?? null])}
              >
                Next page
              </button>
            </nav>
          </>
        )}
      </section>
    </>
  );
}

function KeyPolicyStatus({ organization }: { organization: Policy }) {
  const policy = organization.authenticatorPolicy;
  const listed = policy?.allowedAaguids.length ?? 0;
  return (
    <p id="keys-policy-status">
      {listed === 0
        ? 'Any model of security key or passkey counts'
        : `Only attested keys of ${listed} listed models count`}
      {policy?.requireDeviceBound ? ', and only device-bound keys (not synced passkeys).' : '.'} Models the FIDO
      Metadata Service reports compromised never count.
    </p>
  );
}

/** The owner chooses models from authenticatorModels, and whether keys must be device-bound. */
function KeyPolicyForm({ organization, onChanged }: { organization: Policy; onChanged: (message: string) => void }) {
  const [search, setSearch] = useState('');
  const [{ data, error }] = useQuery({ query: AuthenticatorModelsQuery, variables: { search: search || null } });
  const [chosen, setChosen] = useState<string[]>(organization.authenticatorPolicy?.allowedAaguids ?? []);
  const [deviceBound, setDeviceBound] = useState(organization.authenticatorPolicy?.requireDeviceBound ?? false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [{ fetching }, setPolicy] = useMutation(SetAuthenticatorPolicy);
  const models = data?.authenticatorModels.edges.map((edge) => edge.node) ?? [];

  const toggle = (aaguid: string) =>
    setChosen((current) => (current.includes(aaguid) ? current.filter((a) => a !== aaguid) : [...current, aaguid]));

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    const result = await setPolicy({
      organizationId: organization.id,
      allowedAaguids: chosen,
      requireDeviceBound: deviceBound,
    });
    if (result.error) return setProblem(problemOf(result.error));
    onChanged(
      chosen.length === 0
        ? `Any model of key counts for ${organization.name} now${deviceBound ? ', if device-bound' : ''}.`
        : `Only the ${chosen.length} chosen models count for ${organization.name} now${deviceBound ? ', if device-bound' : ''}.`,
    );
  };

  return (
    <form onSubmit={(event) => void save(event)} aria-label="Which security keys count">
      <ProblemMessage problem={problem ?? (error ? problemOf(error) : undefined)} />
      <label>
        Find a model
        <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} maxLength={100} />
      </label>
      <fieldset>
        <legend>Allowed models (none chosen: any model)</legend>
        {models.length === 0 && (
          <p className="help">No models: the service has no FIDO Metadata Service blob loaded.</p>
        )}
        {models.map((model) => (
          <label key={model.aaguid}>
            <input
              type="checkbox"
              checked={chosen.includes(model.aaguid)}
              disabled={model.compromised && !chosen.includes(model.aaguid)}
              onChange={() => toggle(model.aaguid)}
            />
            {model.name}
            {model.compromised ? ' (reported compromised)' : ''}
          </label>
        ))}
      </fieldset>
      <label>
        <input type="checkbox" checked={deviceBound} onChange={(event) => setDeviceBound(event.target.checked)} />
        Only device-bound keys (not synced passkeys)
      </label>
      <div className="buttons">
        <button type="submit" disabled={fetching}>
          Save which keys count
        </button>
      </div>
    </form>
  );
}

/** Members (and owners) whose keys the policy does not accept: the phishingResistant: false filter. */
function KeysNotAccepted({ organizationId, version }: { organizationId: string; version: number }) {
  const [{ data, error }, reexecute] = useQuery({ query: KeysNotAcceptedQuery, variables: { id: organizationId } });
  useRefreshed(version, reexecute);
  if (error) return <ProblemMessage problem={problemOf(error)} />;
  const organization = data?.organization;
  if (!organization?.members) return null;
  return (
    <div id="keys-not-accepted">
      <p>
        {organization.members.totalCount} members have no key this policy accepts
        {organization.ownersWithoutAcceptedAuthenticator
          ? `, ${organization.ownersWithoutAcceptedAuthenticator} of them owners.`
          : '.'}
      </p>
      <ul aria-label="Members whose keys are not accepted">
        {organization.members.edges.map(({ node }) => (
          <li key={node.user.id}>
            {node.user.id}
            {node.role === 'OWNER' ? ' (owner)' : ''}
          </li>
        ))}
      </ul>
    </div>
  );
}
