import { LIMITS } from '../../limits';

/**
 * When the attempt after `attempts` failed ones is due, or null when the series
 * gives up: the contract's schedule (about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * then every 10 h), each delay jittered by ±20 %, for 3 days from the series'
 * first attempt. Webhook deliveries and pushed Security Event Tokens alike.
 */
export function nextAttemptAt(
  attempts: number,
  seriesStartedAt: Date,
  now: Date,
  random: () => number = Math.random,
): Date | null {
  const delays = LIMITS.webhookRetryDelaysSeconds;
  const base = delays[Math.min(Math.max(attempts, 1), delays.length) - 1];
  const jitter = 1 + LIMITS.webhookRetryJitter * (2 * random() - 1);
  const next = new Date(now.getTime() + Math.round(base * jitter * 1000));
  return next.getTime() - seriesStartedAt.getTime() > LIMITS.webhookGiveUpAfterSeconds * 1000 ? null : next;
}
