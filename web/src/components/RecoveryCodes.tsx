import { useEffect, useRef, useState } from 'react';
import { formatDate } from '../hooks';
import { RegenerateRecoveryCodes, ViewRecoveryCodes } from '../operations';
import { FactorSection, type SectionContext } from './FactorSection';

export interface ShownCode {
  code: string;
  usedAt?: string | null;
}

export interface ShownCodes {
  title: string;
  intro: string;
  codes: ShownCode[];
}

/**
 * Recovery codes, shown once after they are made (and on "View recovery codes"):
 * copy, download as a text file, and a clear "done".
 */
export function RecoveryCodes({
  title,
  intro,
  codes,
  onDone,
}: {
  title: string;
  intro: string;
  codes: ShownCode[];
  onDone: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const unused = codes.filter((code) => !code.usedAt).map((code) => code.code);
  const text = `TwoFactor recovery codes (each works once)\n\n${unused.join('\n')}\n`;

  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView({ block: 'start' });
  }, []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied. Paste them somewhere safe.');
    } catch {
      setCopied('Copying was not allowed here: select the codes and copy them, or download them.');
    }
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'twofactor-recovery-codes.txt';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <section className="card codes-panel" aria-labelledby="recovery-codes-title">
      <h2 id="recovery-codes-title" ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <p>{intro}</p>
      <ol className="codes" aria-label="Recovery codes">
        {codes.map(({ code, usedAt }) => (
          <li key={code} className={usedAt ? 'used' : undefined}>
            <code>{code}</code>
            {usedAt && <span className="used-label"> (used)</span>}
          </li>
        ))}
      </ol>
      <div className="buttons">
        <button type="button" className="secondary" onClick={() => void copy()}>
          Copy codes
        </button>
        <button type="button" className="secondary" onClick={download}>
          Download as .txt
        </button>
        <button type="button" onClick={onDone}>
          I have saved my recovery codes
        </button>
      </div>
      {copied && (
        <p role="status" className="help">
          {copied}
        </p>
      )}
    </section>
  );
}

/** The recovery codes card: how many are left; viewing and regenerating them (behind the step-up) show them here. */
export function RecoveryCodesSection({
  context,
  left,
  showCodes,
}: {
  context: SectionContext;
  left: number;
  showCodes: (codes: ShownCodes) => void;
}) {
  const { mutate } = context;
  return (
    <FactorSection
      context={context}
      id="recovery-heading"
      title="Recovery codes"
      summary={
        <p>
          You have <strong>{left}</strong> unused recovery code{left === 1 ? '' : 's'}. Each gets you in once when you
          cannot use your other methods.
        </p>
      }
      actions={[
        {
          label: 'View recovery codes',
          kind: 'secondary',
          run: async (stepUp) => {
            const { generatedAt, codes } = (await mutate(ViewRecoveryCodes, stepUp)).viewRecoveryCodes;
            const intro = `Made on ${formatDate(generatedAt)}. Used codes are marked; each works once.`;
            showCodes({ title: 'Your recovery codes', intro, codes });
          },
        },
        {
          label: 'Regenerate recovery codes',
          kind: 'secondary',
          run: async (stepUp) => {
            const { codes } = (await mutate(RegenerateRecoveryCodes, stepUp)).regenerateRecoveryCodes;
            const intro = 'Your old recovery codes no longer work. Save these somewhere safe: each gets you in once.';
            showCodes({ title: 'Your new recovery codes', intro, codes });
          },
        },
      ]}
    />
  );
}
