import { useEffect, useRef, useState } from 'react';

export interface ShownCode {
  code: string;
  usedAt?: string | null;
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
