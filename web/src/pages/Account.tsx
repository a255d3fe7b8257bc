import { startRegistration } from '@simplewebauthn/browser';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { METHOD_WORDS } from '../amr';
import { problemOf, type Problem, type SessionUser } from '../api';
import { ProblemMessage } from '../components/ProblemMessage';
import { RecoveryCodes, type ShownCode } from '../components/RecoveryCodes';
import { StepUpDialog, type StepUpAnswer, type StepUpRequest } from '../components/StepUpDialog';
import { webAuthnProblem, type CodeSource } from '../errors';
import type { StatusFieldsFragment } from '../gql/graphql';
import { formatDate, secondsUntil, useNow, usePageHeading } from '../hooks';
import {
  ConfirmSmsSetup,
  ConfirmTotpSetup,
  ConfirmWebAuthnRegistration,
  DisableTwoFactor,
  MeQuery,
  RegenerateRecoveryCodes,
  RemoveSms,
  RemoveTotp,
  RemoveWebAuthnCredential,
  RenameWebAuthnCredential,
  RevokeAllTrustedDevices,
  RevokeTrustedDevice,
  StartSmsSetup,
  StartTotpSetup,
  StartWebAuthnRegistration,
  ViewRecoveryCodes,
} from '../operations';
import { Link } from '../router';

/** Runs an operation that needs a step-up once two-factor is on: directly while it is off, else through the dialog. */
type Guarded = (
  action: string,
  run: (answer?: StepUpAnswer) => Promise<Problem | undefined>,
  onProblem: (problem: Problem) => void,
) => void;

interface SectionProps {
  status: StatusFieldsFragment;
  guarded: Guarded;
  refresh: () => void;
  announce: (message: string) => void;
  showCodes: (codes: { title: string; intro: string; codes: ShownCode[] }) => void;
  /** The codes a first factor comes with (two-factor just turned on); nothing when none came. */
  showNewCodes: (fresh: readonly string[] | null | undefined) => void;
  onSignOut: () => void;
}

/** A step-up answer as the mutations take it. */
const answerArgs = (answer?: StepUpAnswer) => ({ code: answer?.code, webAuthn: answer?.webAuthn });

const NEW_CODES_INTRO =
  'Two-factor authentication is on. Save these recovery codes somewhere safe (a password manager, or printed): each gets you in once if you lose your phone or security key. They are shown only now.';

/** Account settings, "Two-factor authentication". */
export function Account({ user, onSignOut }: { user: SessionUser; onSignOut: () => void }) {
  const heading = usePageHeading('Two-factor authentication');
  const [{ data, error, fetching }, reexecute] = useQuery({ query: MeQuery });
  const [stepUp, setStepUp] = useState<StepUpRequest | null>(null);
  const [codes, setCodes] = useState<{ title: string; intro: string; codes: ShownCode[] } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const status = data?.me.twoFactor;
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const guarded: Guarded = (action, run, onProblem) => {
    setMessage(null);
    if (!status?.enabled) {
      void run(undefined).then((problem) => problem && onProblem(problem));
      return;
    }
    setStepUp({ action, run: (answer) => run(answer) });
  };
  const props = status && {
    status,
    guarded,
    refresh,
    announce: setMessage,
    showCodes: setCodes,
    showNewCodes: (fresh: readonly string[] | null | undefined) => {
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
          title={codes.title}
          intro={codes.intro}
          codes={codes.codes}
          onDone={() => {
            setCodes(null);
            refresh();
          }}
        />
      )}
      {status && props && (
        <>
          <StatusSummary status={status} />
          <AuthenticatorApp {...props} />
          <TextMessages {...props} />
          <SecurityKeys {...props} />
          {status.enabled && <RecoveryCodesSection {...props} />}
          {(status.enabled || status.trustedDevices.length > 0) && <TrustedDevices {...props} />}
          {status.enabled && <DisableSection {...props} />}
          <Organizations memberships={data.me.memberships} />
        </>
      )}
      {stepUp && status && <StepUpDialog request={stepUp} methods={status.methods} onClose={() => setStepUp(null)} />}
    </div>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function SectionProblem({
  problem,
  accepts,
  onSignOut,
}: {
  problem: Problem | undefined;
  accepts?: readonly CodeSource[];
  onSignOut: () => void;
}) {
  return (
    <ProblemMessage problem={problem} accepts={accepts}>
      {problem?.code === 'REAUTHENTICATION_REQUIRED' && (
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out to sign in again
        </button>
      )}
    </ProblemMessage>
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

function AuthenticatorApp({ status, guarded, refresh, announce, showNewCodes, onSignOut }: SectionProps) {
  const [setup, setSetup] = useState<{ secret: string; qrCodeSvg: string; expiresAt: string } | null>(null);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>();
  const [, startTotpSetup] = useMutation(StartTotpSetup);
  const [, confirmTotpSetup] = useMutation(ConfirmTotpSetup);
  const [, removeTotp] = useMutation(RemoveTotp);

  const begin = () => {
    setProblem(undefined);
    guarded(
      status.totp ? 'Replace authenticator app' : 'Set up authenticator app',
      async (answer) => {
        const result = await startTotpSetup(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        setSetup(result.data.startTotpSetup);
        return undefined;
      },
      setProblem,
    );
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    const result = await confirmTotpSetup({ code: code.trim() });
    setCode('');
    if (!result.data) return setProblem(problemOf(result.error));
    setSetup(null);
    announce('Your authenticator app is set up.');
    showNewCodes(result.data.confirmTotpSetup.recoveryCodes);
    refresh();
  };

  const remove = () =>
    guarded(
      'Remove authenticator app',
      async (answer) => {
        const result = await removeTotp(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        announce('The authenticator app was removed.');
        refresh();
        return undefined;
      },
      setProblem,
    );

  return (
    <Section id="totp-heading" title="Authenticator app">
      {status.totp ? (
        <p>
          Set up on {formatDate(status.totp.createdAt)}; last used {formatDate(status.totp.lastUsedAt)}.
        </p>
      ) : (
        <p>Use an app such as 1Password, Google Authenticator or Authy to get a new 6-digit code every 30 seconds.</p>
      )}
      {setup ? (
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
            <li>
              <form onSubmit={(event) => void confirm(event)}>
                <label htmlFor="totp-code">Code from your app</label>
                <input
                  id="totp-code"
                  autoComplete="one-time-code"
                  inputMode="numeric"
                  pattern="[0-9]{6}"
                  maxLength={6}
                  required
                  value={code}
                  onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
                />
                <p className="help">Confirm before {formatDate(setup.expiresAt)}, or start again.</p>
                {/* Only the new app's code confirms it. */}
                <SectionProblem problem={problem} accepts={['NEW_TOTP']} onSignOut={onSignOut} />
                <div className="buttons">
                  <button type="submit">Confirm</button>
                  <button type="button" className="secondary" onClick={() => (setSetup(null), setProblem(undefined))}>
                    Cancel
                  </button>
                </div>
              </form>
            </li>
          </ol>
        </div>
      ) : (
        <>
          <SectionProblem problem={problem} onSignOut={onSignOut} />
          <div className="buttons">
            <button type="button" onClick={begin}>
              {status.totp ? 'Replace authenticator app' : 'Set up authenticator app'}
            </button>
            {status.totp && (
              <button type="button" className="danger" onClick={remove}>
                Remove authenticator app
              </button>
            )}
          </div>
        </>
      )}
    </Section>
  );
}

function TextMessages({ status, guarded, refresh, announce, showNewCodes, onSignOut }: SectionProps) {
  const [editing, setEditing] = useState(false);
  const [phoneNumber, setPhoneNumber] = useState('');
  const [sent, setSent] = useState<{
    phoneNumber: string;
    phoneNumberMasked: string;
    resendAvailableAt: string;
  } | null>(null);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>();
  const [, startSmsSetup] = useMutation(StartSmsSetup);
  const [, confirmSmsSetup] = useMutation(ConfirmSmsSetup);
  const [, removeSms] = useMutation(RemoveSms);
  const now = useNow(sent !== null);
  const resendIn = secondsUntil(sent?.resendAvailableAt, now);

  const send = (number: string) => {
    setProblem(undefined);
    guarded(
      'Set up text messages',
      async (answer) => {
        const result = await startSmsSetup({ phoneNumber: number, ...answerArgs(answer) });
        if (!result.data) return problemOf(result.error);
        setSent({ phoneNumber: number, ...result.data.startSmsSetup });
        return undefined;
      },
      setProblem,
    );
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    const result = await confirmSmsSetup({ code: code.trim() });
    setCode('');
    if (!result.data) return setProblem(problemOf(result.error));
    setSent(null);
    setEditing(false);
    setPhoneNumber('');
    announce(
      `Text messages to ${result.data.confirmSmsSetup.status.sms?.phoneNumberMasked ?? 'your phone'} are set up.`,
    );
    showNewCodes(result.data.confirmSmsSetup.recoveryCodes);
    refresh();
  };

  const remove = () =>
    guarded(
      'Remove phone number',
      async (answer) => {
        const result = await removeSms(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        announce('The phone number was removed.');
        refresh();
        return undefined;
      },
      setProblem,
    );

  return (
    <Section id="sms-heading" title="Text messages (SMS)">
      {status.sms && (
        <p>
          Codes are sent to {status.sms.phoneNumberMasked}; last used {formatDate(status.sms.lastUsedAt)}.
        </p>
      )}
      {sent ? (
        <form onSubmit={(event) => void confirm(event)}>
          <p role="status">We sent a code to {sent.phoneNumberMasked}. It is valid for 10 minutes.</p>
          <label htmlFor="sms-setup-code">Code from the text message</label>
          <input
            id="sms-setup-code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            value={code}
            onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
          />
          {/* Only the code sent to the new number confirms it. */}
          <SectionProblem problem={problem} accepts={['NEW_SMS']} onSignOut={onSignOut} />
          <div className="buttons">
            <button type="submit">Confirm</button>
            <button type="button" className="secondary" disabled={resendIn > 0} onClick={() => send(sent.phoneNumber)}>
              {resendIn > 0 ? `Resend code (in ${resendIn} s)` : 'Resend code'}
            </button>
            <button type="button" className="secondary" onClick={() => (setSent(null), setProblem(undefined))}>
              Cancel
            </button>
          </div>
        </form>
      ) : !status.sms || editing ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            send(phoneNumber.trim());
          }}
        >
          <label htmlFor="phone-number">Mobile phone number</label>
          <p className="help" id="phone-number-help">
            In international format: + and the country code, e.g. +14155552671.
          </p>
          <input
            id="phone-number"
            type="tel"
            autoComplete="tel"
            aria-describedby="phone-number-help"
            required
            value={phoneNumber}
            onChange={(event) => setPhoneNumber(event.target.value)}
          />
          <SectionProblem problem={problem} onSignOut={onSignOut} />
          <div className="buttons">
            <button type="submit">Send code</button>
            {editing && (
              <button type="button" className="secondary" onClick={() => (setEditing(false), setProblem(undefined))}>
                Cancel
              </button>
            )}
          </div>
        </form>
      ) : (
        <>
          <SectionProblem problem={problem} onSignOut={onSignOut} />
          <div className="buttons">
            <button type="button" className="secondary" onClick={() => setEditing(true)}>
              Change phone number
            </button>
            <button type="button" className="danger" onClick={remove}>
              Remove phone number
            </button>
          </div>
        </>
      )}
    </Section>
  );
}

function SecurityKeys({ status, guarded, refresh, announce, showNewCodes, onSignOut }: SectionProps) {
  const [name, setName] = useState('');
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState(false);
  const [, startRegistrationOp] = useMutation(StartWebAuthnRegistration);
  const [, confirmRegistration] = useMutation(ConfirmWebAuthnRegistration);
  const [, rename] = useMutation(RenameWebAuthnCredential);
  const [, removeCredential] = useMutation(RemoveWebAuthnCredential);

  const register = async (options: unknown) => {
    setBusy(true);
    try {
      let response: unknown;
      try {
        response = await startRegistration({ optionsJSON: options as never });
      } catch (error) {
        return setProblem(webAuthnProblem(error));
      }
      const result = await confirmRegistration({ response, name: name.trim() || null });
      if (!result.data) return setProblem(problemOf(result.error));
      setName('');
      announce('Your security key is registered.');
      showNewCodes(result.data.confirmWebAuthnRegistration.recoveryCodes);
      refresh();
    } finally {
      setBusy(false);
    }
  };

  const add = (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    guarded(
      'Add a security key',
      async (answer) => {
        const result = await startRegistrationOp(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        // The dialog closes; the browser then asks for the key.
        void register(result.data.startWebAuthnRegistration.options);
        return undefined;
      },
      setProblem,
    );
  };

  const saveName = async (event: FormEvent) => {
    event.preventDefault();
    if (!renaming) return;
    const result = await rename({ id: renaming.id, name: renaming.name.trim() });
    if (!result.data) return setProblem(problemOf(result.error));
    setRenaming(null);
    announce(`Renamed to ${result.data.renameWebAuthnCredential.name}.`);
    refresh();
  };

  const remove = (id: string, keyName: string) =>
    guarded(
      `Remove ${keyName}`,
      async (answer) => {
        const result = await removeCredential({ id, ...answerArgs(answer) });
        if (!result.data) return problemOf(result.error);
        announce(`${keyName} was removed.`);
        refresh();
        return undefined;
      },
      setProblem,
    );

  return (
    <Section id="keys-heading" title="Security keys and passkeys">
      <p>A security key or passkey cannot be phished: it only answers this site.</p>
      {status.webAuthnCredentials.length > 0 && (
        <ul className="keys" aria-label="Your security keys">
          {status.webAuthnCredentials.map((credential) => (
            <li key={credential.id}>
              {renaming?.id === credential.id ? (
                <form onSubmit={(event) => void saveName(event)} className="inline">
                  <label htmlFor={`rename-${credential.id}`}>New name for {credential.name}</label>
                  <input
                    id={`rename-${credential.id}`}
                    maxLength={64}
                    required
                    value={renaming.name}
                    onChange={(event) => setRenaming({ id: credential.id, name: event.target.value })}
                  />
                  <button type="submit">Save</button>
                  <button type="button" className="secondary" onClick={() => setRenaming(null)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <>
                  <strong>{credential.name}</strong>
                  <span className="meta">
                    {credential.synced ? 'Synced passkey' : 'Security key'} · added {formatDate(credential.createdAt)} ·
                    last used {formatDate(credential.lastUsedAt)}
                  </span>
                  <span className="buttons">
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Rename ${credential.name}`}
                      onClick={() => setRenaming({ id: credential.id, name: credential.name })}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Remove ${credential.name}`}
                      onClick={() => remove(credential.id, credential.name)}
                    >
                      Remove
                    </button>
                  </span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add}>
        <label htmlFor="key-name">Name for a new key (optional)</label>
        <input
          id="key-name"
          maxLength={64}
          placeholder="e.g. Blue YubiKey"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <SectionProblem problem={problem} onSignOut={onSignOut} />
        <div className="buttons">
          <button type="submit" disabled={busy}>
            {busy ? 'Waiting for your key…' : 'Add a security key'}
          </button>
        </div>
      </form>
    </Section>
  );
}

function RecoveryCodesSection({ status, guarded, refresh, showCodes, onSignOut }: SectionProps) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [, view] = useMutation(ViewRecoveryCodes);
  const [, regenerate] = useMutation(RegenerateRecoveryCodes);

  const viewCodes = () =>
    guarded(
      'View recovery codes',
      async (answer) => {
        const result = await view(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        showCodes({
          title: 'Your recovery codes',
          intro: `Made on ${formatDate(result.data.viewRecoveryCodes.generatedAt)}. Used codes are marked; each works once.`,
          codes: result.data.viewRecoveryCodes.codes,
        });
        refresh();
        return undefined;
      },
      setProblem,
    );

  const regenerateCodes = () =>
    guarded(
      'Regenerate recovery codes',
      async (answer) => {
        const result = await regenerate(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        showCodes({
          title: 'Your new recovery codes',
          intro: 'Your old recovery codes no longer work. Save these somewhere safe: each gets you in once.',
          codes: result.data.regenerateRecoveryCodes.codes,
        });
        refresh();
        return undefined;
      },
      setProblem,
    );

  return (
    <Section id="recovery-heading" title="Recovery codes">
      <p>
        You have <strong>{status.recoveryCodesRemaining}</strong> unused recovery code
        {status.recoveryCodesRemaining === 1 ? '' : 's'}. Each gets you in once when you cannot use your other methods.
      </p>
      <SectionProblem problem={problem} onSignOut={onSignOut} />
      <div className="buttons">
        <button type="button" className="secondary" onClick={viewCodes}>
          View recovery codes
        </button>
        <button type="button" className="secondary" onClick={regenerateCodes}>
          Regenerate recovery codes
        </button>
      </div>
    </Section>
  );
}

function TrustedDevices({ status, refresh, announce }: SectionProps) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [, revoke] = useMutation(RevokeTrustedDevice);
  const [, revokeAll] = useMutation(RevokeAllTrustedDevices);
  const devices = status.trustedDevices;

  const revokeOne = async (id: string, name: string) => {
    setProblem(undefined);
    const result = await revoke({ id });
    if (result.error) return setProblem(problemOf(result.error));
    announce(`${name} is no longer remembered: it will ask for a code again.`);
    refresh();
  };

  const revokeEvery = async () => {
    setProblem(undefined);
    const result = await revokeAll({});
    if (result.error) return setProblem(problemOf(result.error));
    announce('No browser is remembered any more: each will ask for a code again.');
    refresh();
  };

  return (
    <Section id="devices-heading" title="Trusted devices">
      <p>
        Browsers where you chose &quot;Remember this browser&quot; skip the second step until they expire. Removing a
        method, regenerating recovery codes or turning two-factor off forgets them all.
      </p>
      {devices.length === 0 ? (
        <p>No browser is remembered.</p>
      ) : (
        <ul className="keys" aria-label="Remembered browsers">
          {devices.map((device) => (
            <li key={device.id}>
              <strong>{device.name}</strong>
              <span className="meta">
                remembered {formatDate(device.createdAt)} · last used {formatDate(device.lastUsedAt)} · until{' '}
                {formatDate(device.expiresAt)}
              </span>
              <span className="buttons">
                <button
                  type="button"
                  className="danger"
                  aria-label={`Revoke ${device.name}, remembered ${formatDate(device.createdAt)}`}
                  onClick={() => void revokeOne(device.id, device.name)}
                >
                  Revoke
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <SectionProblem problem={problem} onSignOut={() => undefined} />
      {devices.length > 1 && (
        <div className="buttons">
          <button type="button" className="danger" onClick={() => void revokeEvery()}>
            Revoke all remembered browsers
          </button>
        </div>
      )}
    </Section>
  );
}

function DisableSection({ guarded, refresh, announce, onSignOut }: SectionProps) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [, disable] = useMutation(DisableTwoFactor);
  const run = () =>
    guarded(
      'Disable two-factor authentication',
      async (answer) => {
        const result = await disable(answerArgs(answer));
        if (!result.data) return problemOf(result.error);
        announce('Two-factor authentication is off. Your methods and recovery codes were removed.');
        refresh();
        return undefined;
      },
      setProblem,
    );
  return (
    <Section id="disable-heading" title="Turn off">
      <p>Removes every method and recovery code. Organizations that require two-factor will not allow it.</p>
      <SectionProblem problem={problem} onSignOut={onSignOut} />
      <button type="button" className="danger" onClick={run}>
        Disable two-factor authentication
      </button>
    </Section>
  );
}

function Organizations({
  memberships,
}: {
  memberships: { role: string; organization: { id: string; name: string; requiresTwoFactor: boolean } }[];
}) {
  if (memberships.length === 0) return null;
  return (
    <Section id="organizations-heading" title="Your organizations">
      <ul>
        {memberships.map(({ role, organization }) => (
          <li key={organization.id}>
            <Link to={`/organizations/${encodeURIComponent(organization.id)}`}>{organization.name}</Link> (
            {role === 'OWNER' ? 'owner' : 'member'}):{' '}
            {organization.requiresTwoFactor ? 'requires two-factor authentication' : 'two-factor is optional'}
          </li>
        ))}
      </ul>
    </Section>
  );
}
