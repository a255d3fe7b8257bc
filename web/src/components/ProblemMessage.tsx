import { useState, type ReactNode } from 'react';
import type { Problem } from '../api';
import { explain, type CodeSource } from '../errors';
import { secondsUntil, useNow } from '../hooks';

/**
 * A refusal in words, with what to do next; announced to screen readers
 * (role="alert"). RATE_LIMITED counts down the wait it was given. `accepts`:
 * what the code field beside it takes, so a wrong code names only that.
 */
export function ProblemMessage({
  problem,
  accepts,
  children,
}: {
  problem: Problem | undefined | null;
  accepts?: readonly CodeSource[];
  children?: ReactNode;
}) {
  if (!problem) return null;
  return <Explained key={`${problem.code}:${problem.message}`} problem={problem} accepts={accepts} extra={children} />;
}

function Explained({
  problem,
  accepts,
  extra,
}: {
  problem: Problem;
  accepts?: readonly CodeSource[];
  extra?: ReactNode;
}) {
  const explanation = explain(problem, accepts);
  const [until] = useState(() =>
    explanation.retryAfterSeconds ? Date.now() + explanation.retryAfterSeconds * 1000 : null,
  );
  const now = useNow(until !== null);
  const left = secondsUntil(until, now);
  return (
    <div className="problem" role="alert">
      <p className="problem-title">{explanation.title}</p>
      <p>
        {explanation.next}
        {until !== null && (left > 0 ? ` Try again in ${left} s.` : ' You can try again now.')}
      </p>
      {extra}
    </div>
  );
}
