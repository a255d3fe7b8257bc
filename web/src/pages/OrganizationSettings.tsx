import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { problemOf, type Problem } from '../api';
import { ProblemMessage } from '../components/ProblemMessage';
import { formatDate, formatDay, usePageHeading } from '../hooks';
import {
  MeQuery,
  OrganizationComplianceQuery,
  OrganizationPolicyQuery,
  RequirePhishingResistantTwoFactor,
  RequireTwoFactor,
  SetTrustedDevicesAllowed,
  StopRequiringTwoFactor,
} from '../operations';
import { Link } from '../router';

const PAGE_SIZE = 10;
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
              <PolicyForm
                organization={organization}
                onChanged={(text) => {
                  setMessage(text);
                  reexecutePolicy({ requestPolicy: 'network-only' });
                }}
              />
            ) : (
              <p className="help">Only owners of {organization.name} can change this.</p>
            )}
            {!owner && organization.requiresTwoFactor && membership && me.data?.me.twoFactor.enabled === false && (
              <p>
                Set up two-factor authentication in <Link to="/account">your account settings</Link> to keep your
                access.
              </p>
            )}
          </section>
          <section className="card" aria-labelledby="devices-heading">
            <h2 id="devices-heading">Trusted devices</h2>
            <p id="devices-status">
              {organization.allowsTrustedDevices
                ? `Members of ${organization.name} may skip the second step on browsers they chose to remember.`
                : `Members of ${organization.name} are asked for their second step at every sign-in: remembered browsers do not count.`}
            </p>
            {owner && (
              <TrustedDevicesSetting
                organization={organization}
                onChanged={(text) => {
                  setMessage(text);
                  reexecutePolicy({ requestPolicy: 'network-only' });
                }}
              />
            )}
          </section>
          {owner && <Compliance organizationId={organizationId} required={organization.requiresTwoFactor} />}
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

function PolicyForm({ organization, onChanged }: { organization: Policy; onChanged: (message: string) => void }) {
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

function Compliance({ organizationId, required }: { organizationId: string; required: boolean }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1];
  const [{ data, error, fetching }] = useQuery({
    query: OrganizationComplianceQuery,
    variables: { id: organizationId, first: PAGE_SIZE, after },
  });
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
                </tr>
              </thead>
              <tbody>
                {members.edges.map(({ node, cursor }) => (
                  <tr key={cursor}>
                    <td>{node.user.id}</td>
                    <td>{node.role === 'OWNER' ? 'Owner' : 'Member'}</td>
                  </tr>
                ))}
                {members.edges.length === 0 && (
                  <tr>
                    <td colSpan={2}>Everyone has two-factor authentication.</td>
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
