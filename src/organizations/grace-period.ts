import { LIMITS } from '../limits';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A reminder of a grace period: `ending-<n>d` (n days before it ends), or `ended`. */
export type GraceReminderKind = `ending-${number}d` | 'ended';

export interface GraceReminder {
  kind: GraceReminderKind;
  /** Days before the end (0 for `ended`). */
  leadDays: number;
  dueAt: Date;
}

/**
 * The reminders of a grace period given at `startedAt` and ending at `endsAt`,
 * in the order they are due (contract README, "Enforcement"): one per lead of
 * LIMITS.graceReminderLeadDays, and its end. A lead longer than the grace period
 * is skipped; one equal to it (a 1-day grace period and the 1-day reminder) is
 * due at once, when the grace period starts.
 */
export function graceReminders(startedAt: Date, endsAt: Date): GraceReminder[] {
  const length = endsAt.getTime() - startedAt.getTime();
  const leads = [...LIMITS.graceReminderLeadDays].sort((a, b) => b - a);
  return [
    ...leads
      .filter((days) => days * DAY_MS <= length)
      .map((days): GraceReminder => ({
        kind: `ending-${days}d`,
        leadDays: days,
        dueAt: new Date(endsAt.getTime() - days * DAY_MS),
      })),
    { kind: 'ended', leadDays: 0, dueAt: endsAt },
  ];
}

/** When the first reminder not among `sent` is due, or null when none is left. */
export function nextReminderDue(
  startedAt: Date | null,
  endsAt: Date | null,
  sent: ReadonlySet<string> = new Set(),
): Date | null {
  if (!startedAt || !endsAt) return null;
  return graceReminders(startedAt, endsAt).find((reminder) => !sent.has(reminder.kind))?.dueAt ?? null;
}
