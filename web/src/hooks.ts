import { useEffect, useRef, useState } from 'react';

/** The current time, updated every second while `active`. */
export function useNow(active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** Whole seconds from now until `until` (0 once passed). */
export function secondsUntil(until: number | string | null | undefined, now: number): number {
  if (until === null || until === undefined) return 0;
  const time = typeof until === 'string' ? Date.parse(until) : until;
  return Math.max(0, Math.ceil((time - now) / 1000));
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return 'never';
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDay(value: string | null | undefined): string {
  if (!value) return '';
  return new Date(value).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** Moves focus to a page's heading when it appears (screen readers hear the new page). */
export function usePageHeading(title: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · TwoFactor`;
    ref.current?.focus();
  }, [title]);
  return ref;
}
