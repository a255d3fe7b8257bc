import { startAuthentication } from '@simplewebauthn/browser';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { problemOf, type Problem } from '../api';
import { codeSourcesOf, either, webAuthnProblem } from '../errors';
import { secondsUntil, useNow } from '../hooks';
import { SendSmsCode, StartWebAuthnStepUp } from '../operations';
import { ProblemMessage } from './ProblemMessage';

/** What a step-up operation takes: a code (TOTP, SMS or recovery) or a security key's answer. */
export type StepUpAnswer = { code: string; webAuthn?: undefined } | { webAuthn: unknown; code?: undefined };

export interface StepUpRequest {
  /** What the person is confirming, e.g. "View recovery codes". */
  action: string;
  /** Runs the operation with the answer; a problem keeps the dialog open and shows it. */
  run: (answer: StepUpAnswer) => Promise<Problem | undefined>;
}

/** What the dialog takes, in words: only the user's own methods (and recovery codes, which come with two-factor). */
function answers(methods: readonly string[]): string {
  const codes = either([
    ...(methods.includes('TOTP') ? ['a code from your authenticator app'] : []),
    ...(methods.includes('SMS') ? ['a code sent by SMS'] : []),
    'one of your recovery codes',
  ]);
  return methods.includes('WEBAUTHN') ? `${codes}, or use your security key` : codes;
}

/**
 * "Confirm it's you": the step-up every change or reveal of a factor needs once
 * two-factor is on. Takes a code from the authenticator app, a code sent by SMS,
 * a security key, or a recovery code. A modal <dialog>: focus stays inside,
 * Escape cancels.
 */
export function StepUpDialog({
  request,
  methods,
  onClose,
}: {
  request: StepUpRequest;
  methods: readonly string[];
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [sms, setSms] = useState<{ phoneNumberMasked: string; resendAvailableAt: string } | null>(null);
  const [, sendSmsCode] = useMutation(SendSmsCode);
  const [, startStepUp] = useMutation(StartWebAuthnStepUp);
  const now = useNow(sms !== null);
  const resendIn = secondsUntil(sms?.resendAvailableAt, now);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    input.current?.focus();
    return () => element?.close();
  }, []);

  const answer = async (given: StepUpAnswer) => {
    setBusy(true);
    setProblem(undefined);
    const found = await request.run(given);
    if (!found) return onClose();
    setProblem(found);
    setBusy(false);
    setCode('');
    input.current?.focus();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void answer({ code: code.trim() });
  };

  const sendSms = async () => {
    setProblem(undefined);
    const result = await sendSmsCode({});
    if (result.data) {
      setSms(result.data.sendSmsCode);
      input.current?.focus();
    } else setProblem(problemOf(result.error));
  };

  const answerWithSecurityKey = async () => {
    setProblem(undefined);
    const started = await startStepUp({});
    if (!started.data) return setProblem(problemOf(started.error));
    let response: unknown;
    try {
      response = await startAuthentication({ optionsJSON: started.data.startWebAuthnStepUp.options as never });
    } catch (error) {
      return setProblem(webAuthnProblem(error));
    }
    await answer({ webAuthn: response });
  };

  return (
    <dialog
      ref={dialog}
      className="step-up"
      aria-labelledby="step-up-title"
      aria-describedby="step-up-purpose"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id="step-up-title">Confirm it&apos;s you</h2>
      <p id="step-up-purpose">
        To continue with <strong>{request.action}</strong>, enter {answers(methods)}.
      </p>
      <form onSubmit={submit}>
        <label htmlFor="step-up-code">Code or recovery code</label>
        {sms && (
          <p className="help" id="step-up-sms-sent" role="status">
            We sent a code to {sms.phoneNumberMasked}.
          </p>
        )}
        <input
          id="step-up-code"
          ref={input}
          name="step-up-code"
          autoComplete="one-time-code"
          autoCapitalize="characters"
          spellCheck={false}
          aria-describedby={sms ? 'step-up-sms-sent' : undefined}
          required
          value={code}
          onChange={(event) => setCode(event.target.value)}
        />
        <ProblemMessage problem={problem} accepts={codeSourcesOf(methods)} />
        <div className="buttons">
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Confirm'}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
      {(methods.includes('SMS') || methods.includes('WEBAUTHN')) && (
        <div className="buttons other">
          {methods.includes('SMS') && (
            <button type="button" className="secondary" onClick={() => void sendSms()} disabled={resendIn > 0 || busy}>
              {sms ? (resendIn > 0 ? `Send SMS again (in ${resendIn} s)` : 'Send SMS again') : 'Send SMS'}
            </button>
          )}
          {methods.includes('WEBAUTHN') && (
            <button type="button" className="secondary" onClick={() => void answerWithSecurityKey()} disabled={busy}>
              Use a security key
            </button>
          )}
        </div>
      )}
    </dialog>
  );
}
