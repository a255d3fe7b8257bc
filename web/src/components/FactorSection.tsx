import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import type { AnyVariables, DocumentInput } from 'urql';
import { problemFromException, type Problem } from '../api';
import type { CodeSource } from '../errors';
import { secondsUntil, useNow } from '../hooks';
import { ProblemMessage } from './ProblemMessage';
import type { StepUpAnswer } from './StepUpDialog';

/** Runs an operation that needs a step-up once two-factor is on: directly while it is off, else through the dialog. */
export type Guarded = (
  action: string,
  run: (answer?: StepUpAnswer) => Promise<Problem | undefined>,
  onProblem: (problem: Problem) => void,
) => void;

/** What the account page gives each of its sections. */
export interface SectionContext {
  /** Sends a mutation: its data, or its refusal thrown (dataOf). */
  mutate: <Data, Variables extends AnyVariables>(
    document: DocumentInput<Data, Variables>,
    variables: Variables,
  ) => Promise<Data>;
  guarded: Guarded;
  refresh: () => void;
  announce: (message: string) => void;
  /** The codes a first factor comes with (two-factor just turned on); nothing when none came. */
  showNewCodes: (fresh: readonly string[] | null | undefined) => void;
  onSignOut: () => void;
}

/** A step-up answer as the mutations take it (both empty while two-factor is off). */
export interface StepUpArgs {
  code?: string;
  webAuthn?: unknown;
}

/** A button that changes something: `run` throws a refusal (dataOf); `done` is announced when it succeeds. */
export interface Action {
  label: string;
  /** The accessible name where the label alone is ambiguous (one button per key), and what the step-up names. */
  name?: string;
  kind?: 'secondary' | 'danger';
  /** Needs no step-up (revoking a remembered browser). */
  direct?: boolean;
  done?: string;
  run: (stepUp: StepUpArgs) => Promise<unknown>;
}

/** The recovery codes a first factor comes with (none for the second). */
type Codes = readonly string[] | null | undefined;

/** Setting a factor up: begin (behind the step-up), confirm, done (announced, with the first recovery codes). */
export interface Setup<Pending, Confirmed extends { recoveryCodes?: Codes }> {
  /** The begin button's words, and what the step-up names unless `action` does. */
  label: string;
  action?: string;
  /** What the setup starts from (a phone number, a key's name), asked above the begin button. */
  input?: { id: string; label: string; help?: string; attributes: InputHTMLAttributes<HTMLInputElement> };
  /** For a factor in place: the input opens behind a button with these words. */
  change?: string;
  /** More of the setup's form, under the input (the SMS language). */
  more?: ReactNode;
  begin: (stepUp: StepUpArgs, value: string) => Promise<Pending>;
  /** The code that confirms the new factor. Without one, confirming starts at once (the browser asks for the key). */
  code?: { id: string; label: string; accepts: readonly CodeSource[] };
  /** The begin button's words while confirming without a code. */
  busy?: string;
  /** Around the code's form: what the person needs to get the code (the QR code, where the text went). */
  frame?: (pending: Pending, form: ReactNode) => ReactNode;
  /** Under the code field. */
  help?: (pending: Pending) => ReactNode;
  /** When a new code may be asked for (begin again with the same value); no resend button without it. */
  resendAt?: (pending: Pending) => string;
  /** Resolves to the confirming mutation's answer: its recovery codes are shown (two-factor just turned on). */
  confirm: (pending: Pending, code: string, value: string) => Promise<Confirmed>;
  /** What is announced once it is set up. */
  done: string | ((confirmed: Confirmed) => string);
}

/** One of a section's items (a security key, a remembered browser), with buttons of its own. */
export interface Item {
  id: string;
  name: string;
  meta: ReactNode;
  /** Renamed in place (no step-up): a "Rename" button opens the field; `save` resolves to the words to announce. */
  rename?: { maxLength: number; save: (name: string) => Promise<string> };
  actions: Action[];
}

/** A card with its heading (a landmark named by it). */
export function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/**
 * One section of the account page: what is set up (`summary`), its `items`
 * (keys, browsers) with buttons of their own, how to set it up (`setup`: begin
 * → confirm → done), what can be done with it (`actions`, each behind the
 * step-up unless direct: remove, view, revoke), and its refusals in words.
 */
export function FactorSection<Pending, Confirmed extends { recoveryCodes?: Codes }>({
  context: { guarded, refresh, announce, showNewCodes, onSignOut },
  id,
  title,
  summary,
  items,
  setup,
  actions = [],
}: {
  context: SectionContext;
  id: string;
  title: string;
  summary: ReactNode;
  items?: { label: string; list: readonly Item[]; empty?: ReactNode };
  setup?: Setup<Pending, Confirmed>;
  actions?: readonly (Action | false | null | undefined)[];
}) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [value, setValue] = useState('');
  const [editing, setEditing] = useState(false);
  const [pending, setPending] = useState<{ value: Pending } | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const now = useNow(pending !== null && setup?.resendAt !== undefined);

  /** Runs a change (behind the step-up unless direct); a refusal shows here, or in the dialog while it is open. */
  const attempt = (stepUp: string | null, run: (args: StepUpArgs) => Promise<unknown>) => {
    setProblem(undefined);
    const caught = (answer?: StepUpAnswer) =>
      run({ code: answer?.code, webAuthn: answer?.webAuthn }).then(
        () => undefined,
        (error: unknown) => problemFromException(error),
      );
    if (stepUp === null) void caught().then((found) => found && setProblem(found));
    else guarded(stepUp, caught, setProblem);
  };
  const act = ({ label, name, direct, done, run }: Action) =>
    attempt(direct ? null : (name ?? label), async (args) => {
      await run(args);
      if (done) announce(done);
      refresh();
    });

  const finish = async (step: Setup<Pending, Confirmed>, started: Pending, typed: string, start: string) => {
    setBusy(true);
    try {
      const confirmed = await step.confirm(started, typed, start);
      setPending(null);
      setEditing(false);
      setValue('');
      announce(typeof step.done === 'string' ? step.done : step.done(confirmed));
      showNewCodes(confirmed.recoveryCodes);
      refresh();
    } catch (error) {
      setProblem(problemFromException(error));
    } finally {
      setCode('');
      setBusy(false);
    }
  };

  const begin = (step: Setup<Pending, Confirmed>) => {
    const start = value.trim();
    attempt(step.action ?? step.label, async (args) => {
      const started = await step.begin(args, start);
      if (step.code) setPending({ value: started });
      // The dialog closes; the browser then asks for the key.
      else void finish(step, started, '', start);
    });
  };

  const submit = (handler: () => void) => (event: FormEvent) => {
    event.preventDefault();
    handler();
  };
  const problemMessage = (accepts?: readonly CodeSource[]) => (
    <ProblemMessage problem={problem} accepts={accepts}>
      {problem?.code === 'REAUTHENTICATION_REQUIRED' && (
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out to sign in again
        </button>
      )}
    </ProblemMessage>
  );
  const button = (action: Action) => (
    <button
      key={action.name ?? action.label}
      type="button"
      className={action.kind}
      aria-label={action.name}
      onClick={() => act(action)}
    >
      {action.label}
    </button>
  );
  const buttons = actions.filter((action): action is Action => Boolean(action)).map(button);

  const list =
    items &&
    (items.list.length === 0 ? (
      items.empty
    ) : (
      <ul className="keys" aria-label={items.label}>
        {items.list.map(({ id: itemId, name, meta, rename, actions: itemActions }) => (
          <li key={itemId}>
            {rename && renaming?.id === itemId ? (
              <form
                className="inline"
                onSubmit={submit(() =>
                  attempt(null, async () => {
                    const said = await rename.save(renaming.name.trim());
                    setRenaming(null);
                    announce(said);
                    refresh();
                  }),
                )}
              >
                <label htmlFor={`rename-${itemId}`}>New name for {name}</label>
                <input
                  id={`rename-${itemId}`}
                  maxLength={rename.maxLength}
                  required
                  value={renaming.name}
                  onChange={(event) => setRenaming({ id: itemId, name: event.target.value })}
                />
                <button type="submit">Save</button>
                <button type="button" className="secondary" onClick={() => setRenaming(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <strong>{name}</strong>
                <span className="meta">{meta}</span>
                <span className="buttons">
                  {rename && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Rename ${name}`}
                      onClick={() => setRenaming({ id: itemId, name })}
                    >
                      Rename
                    </button>
                  )}
                  {itemActions.map(button)}
                </span>
              </>
            )}
          </li>
        ))}
      </ul>
    ));

  let body: ReactNode;
  if (setup?.code && pending) {
    const started = pending.value;
    const resendIn = setup.resendAt ? secondsUntil(setup.resendAt(started), now) : 0;
    const form = (
      <form onSubmit={submit(() => void finish(setup, started, code.trim(), value.trim()))}>
        <label htmlFor={setup.code.id}>{setup.code.label}</label>
        <input
          id={setup.code.id}
          autoComplete="one-time-code"
          inputMode="numeric"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          value={code}
          onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
        />
        {setup.help?.(started)}
        {/* Only the new factor's code confirms it. */}
        {problemMessage(setup.code.accepts)}
        <div className="buttons">
          <button type="submit">Confirm</button>
          {setup.resendAt && (
            <button type="button" className="secondary" disabled={resendIn > 0} onClick={() => begin(setup)}>
              {resendIn > 0 ? `Resend code (in ${resendIn} s)` : 'Resend code'}
            </button>
          )}
          <button type="button" className="secondary" onClick={() => (setPending(null), setProblem(undefined))}>
            Cancel
          </button>
        </div>
      </form>
    );
    body = setup.frame ? setup.frame(started, form) : form;
  } else if (setup && (!setup.change || editing)) {
    const { input } = setup;
    body = (
      <form onSubmit={submit(() => begin(setup))}>
        {input && (
          <>
            <label htmlFor={input.id}>{input.label}</label>
            {input.help && (
              <p className="help" id={`${input.id}-help`}>
                {input.help}
              </p>
            )}
            <input
              id={input.id}
              aria-describedby={input.help && `${input.id}-help`}
              {...input.attributes}
              value={value}
              onChange={(event) => setValue(event.target.value)}
            />
          </>
        )}
        {setup.more}
        {problemMessage()}
        <div className="buttons">
          <button type="submit" disabled={busy}>
            {busy && setup.busy ? setup.busy : setup.label}
          </button>
          {editing ? (
            <button type="button" className="secondary" onClick={() => (setEditing(false), setProblem(undefined))}>
              Cancel
            </button>
          ) : (
            buttons
          )}
        </div>
      </form>
    );
  } else {
    body = (
      <>
        {problemMessage()}
        {(setup?.change || buttons.length > 0) && (
          <div className="buttons">
            {setup?.change && (
              <button type="button" className="secondary" onClick={() => setEditing(true)}>
                {setup.change}
              </button>
            )}
            {buttons}
          </div>
        )}
      </>
    );
  }

  return (
    <Section id={id} title={title}>
      {summary}
      {list}
      {body}
    </Section>
  );
}
