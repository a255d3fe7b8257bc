import { useState, type ReactNode } from 'react';
import type { Problem } from '../api';
import { explain } from '../errors';
import { secondsUntil, useNow } from '../hooks';

/**
 * A refusal in words, with what to do next; announced to screen readers
 * (role="alert"). RATE_LIMITED counts down the wait it was given.
 */
export function ProblemMessage({
  problem,
  context,
  children,
}: {
  problem: Problem | undefined | null;
  context?: 'login' | 'settings' | 'organization';
  children?: ReactNode;
}) {
  if (!problem) return null;
  return <Explained key={`${problem.code}:${problem.message}`} problem={problem} context={context} extra={children} />;
}

function Explained({
  problem,
  context,
  extra,
}: {
  problem: Problem;
  context?: 'login' | 'settings' | 'organization';
  extra?: ReactNode;
}) {
  const explanation = explain(problem, context);
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
