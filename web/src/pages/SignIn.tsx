import { startAuthentication } from '@simplewebauthn/browser';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  authRequest,
  problemFromException,
  type PendingLogin,
  type Problem,
  type SessionInfo,
  type SessionUser,
} from '../api';
import { ProblemMessage } from '../components/ProblemMessage';
import { codeSourcesOf, webAuthnProblem, type CodeSource } from '../errors';
import { formatDate, secondsUntil, useNow, usePageHeading } from '../hooks';

type Answer = { status: 'SIGNED_IN'; user: SessionUser } | { status: 'TWO_FACTOR'; pendingLogin: PendingLogin };

/** Sign-in: the password step (the login service's), then the two-factor step. */
export function SignIn({
  session,
  onStart,
  onSignedIn,
}: {
  session: SessionInfo;
  /** A new sign-in begins (the password step is sent): what the page said before is over. */
  onStart: () => void;
  onSignedIn: (user: SessionUser, message?: string) => void;
}) {
  const [pending, setPending] = useState<PendingLogin | null>(session.pendingLogin);
  const [problem, setProblem] = useState<Problem | null>(null);

  const answered = (answer: Answer) => {
    if (answer.status === 'SIGNED_IN') onSignedIn(answer.user);
    else setPending(answer.pendingLogin);
  };

  if (pending) {
    return (
      <TwoFactorStep
        pending={pending}
        trustedDevices={session.trustedDevices}
        onSignedIn={onSignedIn}
        onRestart={(reason) => {
          setPending(null);
          setProblem(reason ?? null);
        }}
      />
    );
  }
  return <PasswordStep development={session.development} problem={problem} onStart={onStart} onAnswer={answered} />;
}

function PasswordStep({
  development,
  problem: initialProblem,
  onStart,
  onAnswer,
}: {
  development: boolean;
  problem: Problem | null;
  onStart: () => void;
  onAnswer: (answer: Answer) => void;
}) {
  const heading = usePageHeading('Sign in');
  const [userId, setUserId] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(initialProblem);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    onStart();
    try {
      onAnswer(await authRequest<Answer>('/auth/password', { userId, password }));
    } catch (error) {
      setProblem(problemFromException(error));
      setBusy(false);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading" ref={heading} tabIndex={-1}>
        Sign in
      </h1>
      {development && (
        <p className="hint">
          Development: any user id, and the password <code>demo</code>. <code>demo-owner</code> owns the Demo
          organization; <code>demo-member-1</code> to <code>demo-member-30</code> are its members.
        </p>
      )}
      <form onSubmit={(event) => void submit(event)}>
        <label htmlFor="user-id">User ID</label>
        <input
          id="user-id"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={userId}
          onChange={(event) => setUserId(event.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <ProblemMessage problem={problem} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}

type Mode = 'code' | 'recovery' | 'none';

function TwoFactorStep({
  pending,
  trustedDevices,
  onSignedIn,
  onRestart,
}: {
  pending: PendingLogin;
  trustedDevices: boolean;
  onSignedIn: (user: SessionUser, message?: string) => void;
  onRestart: (reason?: Problem) => void;
}) {
  const methods = pending.methods;
  const hasCodeMethod = methods.includes('TOTP') || methods.includes('SMS');
  const [mode, setMode] = useState<Mode>(hasCodeMethod ? 'code' : 'none');
  const [code, setCode] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sms, setSms] = useState<{ phoneNumberMasked: string; resendAvailableAt: string } | null>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const now = useNow(sms !== null);
  const resendIn = secondsUntil(sms?.resendAvailableAt, now);

  useEffect(() => {
    document.title = 'Two-factor authentication · TwoFactor';
  }, []);
  useEffect(() => {
    codeInput.current?.focus();
  }, [mode]);

  const finish = async (body: { code?: string; webAuthn?: unknown }) => {
    setBusy(true);
    setProblem(null);
    try {
      const answer = await authRequest<{ user: SessionUser; rememberedUntil: string | null }>('/auth/verify', {
        ...body,
        rememberDevice: remember,
      });
      onSignedIn(
        answer.user,
        !remember
          ? undefined
          : answer.rememberedUntil
            ? `This browser is remembered until ${formatDate(answer.rememberedUntil)}: it will not ask for a second step until then, unless you revoke it.`
            : 'This browser could not be remembered (an organization of yours does not allow it, or the service has it turned off): it will ask for a second step next time.',
      );
    } catch (error) {
      const found = problemFromException(error);
      if (found.code === 'CHALLENGE_NOT_FOUND' || found.code === 'ASSERTION_REFUSED') return onRestart(found);
      setProblem(found);
      setBusy(false);
      setCode('');
      codeInput.current?.focus();
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void finish({ code: code.trim() });
  };

  const sendSms = async () => {
    setProblem(null);
    try {
      setSms(await authRequest('/auth/sms'));
      setMode('code');
      codeInput.current?.focus();
    } catch (error) {
      const found = problemFromException(error);
      if (found.code === 'CHALLENGE_NOT_FOUND') return onRestart(found);
      setProblem(found);
    }
  };

  const signInWithSecurityKey = async () => {
    setProblem(null);
    let response: unknown;
    try {
      response = await startAuthentication({ optionsJSON: pending.webAuthnOptions as never });
    } catch (error) {
      setProblem(webAuthnProblem(error));
      return;
    }
    await finish({ webAuthn: response });
  };

  const cancel = async () => {
    await authRequest('/auth/cancel').catch(() => undefined);
    onRestart();
  };

  // A wrong code is explained with what this field takes: the user's own methods only.
  const accepts: CodeSource[] = mode === 'recovery' ? ['RECOVERY_CODE'] : codeSourcesOf(methods, false);

  const help =
    mode === 'recovery'
      ? 'Enter one of the recovery codes you saved when you turned on two-factor authentication. Each code works once.'
      : sms
        ? `Enter the 6-digit code we sent to ${sms.phoneNumberMasked}.`
        : methods.includes('TOTP')
          ? 'Enter the 6-digit code your authenticator app shows.'
          : methods.includes('SMS')
            ? `Choose "Send SMS" to get a code at ${pending.phoneNumberMasked ?? 'your phone'}.`
            : 'Use your security key, or a recovery code.';

  // "Remember this browser": sent with whichever answer signs in (code, SMS, security key, recovery code).
  const rememberField = trustedDevices && (
    <div className="remember">
      <p className="checkbox">
        <input
          id="remember-browser"
          type="checkbox"
          aria-describedby="remember-browser-help"
          checked={remember}
          onChange={(event) => setRemember(event.target.checked)}
        />
        <label htmlFor="remember-browser">Remember this browser</label>
      </p>
      <p className="help" id="remember-browser-help">
        It will not ask for a second step for a while; you can revoke it in your account settings.
      </p>
    </div>
  );

  return (
    <section className="card narrow" aria-labelledby="two-factor-heading">
      <h1 id="two-factor-heading">Two-factor authentication</h1>
      <p>
        Signing in as <strong>{pending.userId}</strong>.
      </p>
      {mode !== 'none' && (
        <form onSubmit={submit}>
          <label htmlFor="two-factor-code">{mode === 'recovery' ? 'Recovery code' : 'Authentication code'}</label>
          <p id="two-factor-code-help" className="help">
            {help}
          </p>
          {mode === 'recovery' ? (
            <input
              key="recovery"
              id="two-factor-code"
              ref={codeInput}
              name="recovery-code"
              autoComplete="off"
              autoCapitalize="characters"
              spellCheck={false}
              aria-describedby="two-factor-code-help"
              required
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
          ) : (
            <input
              key="code"
              id="two-factor-code"
              ref={codeInput}
              name="one-time-code"
              autoComplete="one-time-code"
              inputMode="numeric"
              pattern="[0-9]{6}"
              maxLength={6}
              aria-describedby="two-factor-code-help"
              required
              value={code}
              onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
            />
          )}
          {rememberField}
          <ProblemMessage problem={problem} accepts={accepts} />
          <button type="submit" disabled={busy}>
            {busy ? 'Verifying…' : 'Verify'}
          </button>
        </form>
      )}
      {mode === 'none' && rememberField}
      {mode === 'none' && <ProblemMessage problem={problem} />}

      <h2 className="small-heading">Other ways to sign in</h2>
      <ul className="actions">
        {methods.includes('SMS') && (
          <li>
            <button type="button" className="secondary" onClick={() => void sendSms()} disabled={resendIn > 0}>
              {sms ? (resendIn > 0 ? `Send SMS again (in ${resendIn} s)` : 'Send SMS again') : 'Send SMS'}
            </button>
          </li>
        )}
        {methods.includes('WEBAUTHN') && Boolean(pending.webAuthnOptions) && (
          <li>
            <button type="button" className="secondary" onClick={() => void signInWithSecurityKey()} disabled={busy}>
              Use a security key
            </button>
          </li>
        )}
        {methods.includes('RECOVERY_CODE') && mode !== 'recovery' && (
          <li>
            <button type="button" className="secondary" onClick={() => (setCode(''), setMode('recovery'))}>
              Use a recovery code
            </button>
          </li>
        )}
        {mode === 'recovery' && hasCodeMethod && (
          <li>
            <button type="button" className="secondary" onClick={() => (setCode(''), setMode('code'))}>
              Use an authentication code
            </button>
          </li>
        )}
        <li>
          <button type="button" className="link" onClick={() => void cancel()}>
            Cancel and start again
          </button>
        </li>
      </ul>
    </section>
  );
}
