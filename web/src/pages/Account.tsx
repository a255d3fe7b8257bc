import { startRegistration } from '@simplewebauthn/browser';
import { useState } from 'react';
import { useClient, useQuery } from 'urql';
import { METHOD_WORDS } from '../amr';
import { dataOf, problemOf, ProblemError, type SessionUser } from '../api';
import { FactorSection, Section, type Guarded, type SectionContext } from '../components/FactorSection';
import { ProblemMessage } from '../components/ProblemMessage';
import { RecoveryCodes, RecoveryCodesSection, type ShownCodes } from '../components/RecoveryCodes';
import { StepUpDialog, type StepUpRequest } from '../components/StepUpDialog';
import { TrustedDevices } from '../components/TrustedDevices';
import { webAuthnProblem } from '../errors';
import type { StatusFieldsFragment } from '../gql/graphql';
import { formatDate, usePageHeading } from '../hooks';
import * as op from '../operations';
import { Link } from '../router';

/** What each factor's section gets from the page. */
interface SectionProps {
  context: SectionContext;
  status: StatusFieldsFragment;
}

const NEW_CODES_INTRO =
  'Two-factor authentication is on. Save these recovery codes somewhere safe (a password manager, or printed): each gets you in once if you lose your phone or security key. They are shown only now.';

/** Account settings, "Two-factor authentication". */
export function Account({ user, onSignOut }: { user: SessionUser; onSignOut: () => void }) {
  const heading = usePageHeading('Two-factor authentication');
  const client = useClient();
  const [{ data, error, fetching }, reexecute] = useQuery({ query: op.MeQuery });
  const [stepUp, setStepUp] = useState<StepUpRequest | null>(null);
  const [codes, setCodes] = useState<ShownCodes | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const status = data?.me.twoFactor;
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const guarded: Guarded = (action, run, onProblem) => {
    setMessage(null);
    if (!status?.enabled) {
      void run(undefined).then((problem) => problem && onProblem(problem));
      return;
    }
    setStepUp({ action, run });
  };
  const context: SectionContext = {
    mutate: async (document, variables) => dataOf(await client.mutation(document, variables).toPromise()),
    guarded,
    refresh,
    announce: setMessage,
    showNewCodes: (fresh) => {
      if (fresh)
        setCodes({ title: 'Save your recovery codes', intro: NEW_CODES_INTRO, codes: fresh.map((c) => ({ code: c })) });
    },
    onSignOut,
  };

  return (
    <div className="page">
      <h1 ref={heading} tabIndex={-1}>
        Two-factor authentication
      </h1>
      <p className="lead">
        Two-factor authentication asks for a second proof after your password: a code from an app or a text message, or
        a security key. Account: <strong>{user.id}</strong>.
      </p>
      {message && (
        <p className="success" role="status">
          {message}
        </p>
      )}
      {!data && fetching && <p>Loading…</p>}
      {!data && error && <ProblemMessage problem={problemOf(error)} />}
      {codes && (
        <RecoveryCodes
          {...codes}
          onDone={() => {
            setCodes(null);
            refresh();
          }}
        />
      )}
      {status && (
        <>
          <StatusSummary status={status} />
          <AuthenticatorApp context={context} status={status} />
          <TextMessages context={context} status={status} />
          <SecurityKeys context={context} status={status} />
          {status.enabled && (
            <RecoveryCodesSection context={context} left={status.recoveryCodesRemaining} showCodes={setCodes} />
          )}
          {(status.enabled || status.trustedDevices.length > 0) && (
            <TrustedDevices context={context} devices={status.trustedDevices} />
          )}
          {status.enabled && <DisableSection context={context} />}
          <Organizations memberships={data.me.memberships} />
        </>
      )}
      {stepUp && status && <StepUpDialog request={stepUp} methods={status.methods} onClose={() => setStepUp(null)} />}
    </div>
  );
}

function StatusSummary({ status }: { status: StatusFieldsFragment }) {
  return (
    <Section id="status-heading" title="Status">
      {status.enabled ? (
        <p className="status-on">
          <strong>Two-factor authentication is on</strong> since {formatDate(status.enabledAt)}. Methods:{' '}
          {status.methods.map((method) => METHOD_WORDS[method] ?? method).join(', ')}.
        </p>
      ) : (
        <p className="status-off">
          <strong>Two-factor authentication is off.</strong> Set up an authenticator app, a phone number or a security
          key below to turn it on.
        </p>
      )}
      {status.locked && (
        <p className="warning">
          Authenticator and SMS codes are locked after too many failed attempts. A recovery code or a security key
          unlocks them.
        </p>
      )}
    </Section>
  );
}

function AuthenticatorApp({ context, status: { totp } }: SectionProps) {
  const { mutate } = context;
  return (
    <FactorSection
      context={context}
      id="totp-heading"
      title="Authenticator app"
      summary={
        totp ? (
          <p>
            Set up on {formatDate(totp.createdAt)}; last used {formatDate(totp.lastUsedAt)}.
          </p>
        ) : (
          <p>Use an app such as 1Password, Google Authenticator or Authy to get a new 6-digit code every 30 seconds.</p>
        )
      }
      setup={{
        label: totp ? 'Replace authenticator app' : 'Set up authenticator app',
        begin: async (stepUp) => (await mutate(op.StartTotpSetup, stepUp)).startTotpSetup,
        code: { id: 'totp-code', label: 'Code from your app', accepts: ['NEW_TOTP'] },
        frame: (setup, form) => (
          <div className="setup">
            <ol>
              <li>
                <p>Scan this QR code with your authenticator app:</p>
                <img
                  className="qr"
                  src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qrCodeSvg)}`}
                  alt="QR code for your authenticator app"
                  width={180}
                  height={180}
                />
                <p>Can&apos;t scan it? Enter this setup key in the app instead:</p>
                <p>
                  <code className="secret">{setup.secret.match(/.{1,4}/g)?.join(' ')}</code>
                </p>
              </li>
              <li>{form}</li>
            </ol>
          </div>
        ),
        help: (setup) => <p className="help">Confirm before {formatDate(setup.expiresAt)}, or start again.</p>,
        confirm: async (_setup, code) => (await mutate(op.ConfirmTotpSetup, { code })).confirmTotpSetup,
        done: 'Your authenticator app is set up.',
      }}
      actions={[
        totp && {
          label: 'Remove authenticator app',
          kind: 'danger',
          done: 'The authenticator app was removed.',
          run: (stepUp) => mutate(op.RemoveTotp, stepUp),
        },
      ]}
    />
  );
}

/** The languages the service writes SMS in (docs/api.md), each named in itself. */
const SMS_LANGUAGES: [string, string][] = [
  ['en', 'English'],
  ['de', 'Deutsch'],
  ['fr', 'Français'],
  ['es', 'Español'],
  ['pt-BR', 'Português (Brasil)'],
  ['ja', '日本語'],
];
/** The browser's first language the service has a text in, else English. */
const browserSmsLanguage = () =>
  navigator.languages
    .map((tag) => SMS_LANGUAGES.find(([code]) => code === tag || code.split('-')[0] === tag.split('-')[0])?.[0])
    .find(Boolean) ?? 'en';

function TextMessages({ context, status: { sms } }: SectionProps) {
  const { mutate } = context;
  const [locale, setLocale] = useState(browserSmsLanguage);
  return (
    <FactorSection
      context={context}
      id="sms-heading"
      title="Text messages (SMS)"
      summary={
        sms && (
          <p>
            Codes are sent to {sms.phoneNumberMasked}; last used {formatDate(sms.lastUsedAt)}.
          </p>
        )
      }
      setup={{
        label: 'Send code',
        action: 'Set up text messages',
        input: {
          id: 'phone-number',
          label: 'Mobile phone number',
          help: 'In international format: + and the country code, e.g. +14155552671.',
          attributes: { type: 'tel', autoComplete: 'tel', required: true },
        },
        change: sms ? 'Change phone number' : undefined,
        more: (
          <>
            <label htmlFor="sms-language">Language of the text messages</label>
            <select id="sms-language" value={locale} onChange={(event) => setLocale(event.target.value)}>
              {SMS_LANGUAGES.map(([code, name]) => (
                <option key={code} value={code} lang={code}>
                  {name}
                </option>
              ))}
            </select>
            <p className="help" id="phone-number-risk">
              Text messages can be intercepted or redirected to another SIM (SIM swap): an authenticator app or a
              security key is safer.
            </p>
          </>
        ),
        begin: async (stepUp, phoneNumber) =>
          (await mutate(op.StartSmsSetup, { phoneNumber, locale, ...stepUp })).startSmsSetup,
        code: { id: 'sms-setup-code', label: 'Code from the text message', accepts: ['NEW_SMS'] },
        frame: (sent, form) => (
          <>
            <p role="status">We sent a code to {sent.phoneNumberMasked}. It is valid for 10 minutes.</p>
            {form}
          </>
        ),
        resendAt: (sent) => sent.resendAvailableAt,
        confirm: async (_sent, code) => (await mutate(op.ConfirmSmsSetup, { code })).confirmSmsSetup,
        done: ({ status }) => `Text messages to ${status.sms?.phoneNumberMasked ?? 'your phone'} are set up.`,
      }}
      actions={[
        sms && {
          label: 'Remove phone number',
          kind: 'danger',
          done: 'The phone number was removed.',
          run: (stepUp) => mutate(op.RemoveSms, stepUp),
        },
      ]}
    />
  );
}

function SecurityKeys({ context, status }: SectionProps) {
  const { mutate } = context;
  return (
    <FactorSection
      context={context}
      id="keys-heading"
      title="Security keys and passkeys"
      summary={<p>A security key or passkey cannot be phished: it only answers this site.</p>}
      items={{
        label: 'Your security keys',
        list: status.webAuthnCredentials.map(
          ({ id, name, synced, createdAt, lastUsedAt, authenticatorName, attested, acceptedByOrganizations }) => ({
            id,
            name,
            meta: `${authenticatorName ?? 'Unknown model'}${attested ? ' (attested)' : ''} · ${synced ? 'Synced passkey' : 'Device-bound key'} · ${acceptedByOrganizations ? 'Accepted by your organizations' : 'Not accepted by your organizations'} · added ${formatDate(createdAt)} · last used ${formatDate(lastUsedAt)}`,
            rename: {
              maxLength: 64,
              save: async (newName) => {
                const renamed = await mutate(op.RenameWebAuthnCredential, { id, name: newName });
                return `Renamed to ${renamed.renameWebAuthnCredential.name}.`;
              },
            },
            actions: [
              {
                label: 'Remove',
                name: `Remove ${name}`,
                kind: 'danger',
                done: `${name} was removed.`,
                run: (stepUp) => mutate(op.RemoveWebAuthnCredential, { id, ...stepUp }),
              },
            ],
          }),
        ),
      }}
      setup={{
        label: 'Add a security key',
        busy: 'Waiting for your key…',
        input: {
          id: 'key-name',
          label: 'Name for a new key (optional)',
          attributes: { maxLength: 64, placeholder: 'e.g. Blue YubiKey' },
        },
        begin: async (stepUp) => (await mutate(op.StartWebAuthnRegistration, stepUp)).startWebAuthnRegistration.options,
        confirm: async (options, _code, name) => {
          const response: unknown = await startRegistration({ optionsJSON: options as never }).catch((error) => {
            throw new ProblemError(webAuthnProblem(error));
          });
          return (await mutate(op.ConfirmWebAuthnRegistration, { response, name: name || null }))
            .confirmWebAuthnRegistration;
        },
        done: 'Your security key is registered.',
      }}
    />
  );
}

function DisableSection({ context }: { context: SectionContext }) {
  return (
    <FactorSection
      context={context}
      id="disable-heading"
      title="Turn off"
      summary={<p>Removes every method and recovery code. Organizations that require two-factor will not allow it.</p>}
      actions={[
        {
          label: 'Disable two-factor authentication',
          kind: 'danger',
          done: 'Two-factor authentication is off. Your methods and recovery codes were removed.',
          run: (stepUp) => context.mutate(op.DisableTwoFactor, stepUp),
        },
      ]}
    />
  );
}

function Organizations({
  memberships,
}: {
  memberships: {
    role: string;
    exemptUntil?: string | null;
    organization: { id: string; name: string; requiresTwoFactor: boolean };
  }[];
}) {
  if (memberships.length === 0) return null;
  return (
    <Section id="organizations-heading" title="Your organizations">
      <ul>
        {memberships.map(({ role, exemptUntil, organization }) => (
          <li key={organization.id}>
            <Link to={`/organizations/${encodeURIComponent(organization.id)}`}>{organization.name}</Link> (
            {role === 'OWNER' ? 'owner' : 'member'}):{' '}
            {organization.requiresTwoFactor ? 'requires two-factor authentication' : 'two-factor is optional'}
            {exemptUntil && `; you are exempt from it until ${formatDate(exemptUntil)}`}
          </li>
        ))}
      </ul>
    </Section>
  );
}
