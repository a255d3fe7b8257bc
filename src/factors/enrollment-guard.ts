import type { Caller } from '../callers/caller';
import { AppError } from '../errors';
import type { Clock } from '../infra/clock';

/**
 * Binding the first factor needs a recent sign-in (`auth_time` within
 * REAUTH_MAX_AGE), so a stolen session cannot bind the thief's authenticator.
 */
export class EnrollmentGuard {
  constructor(
    private readonly clock: Clock,
    private readonly maxAgeSeconds: number,
  ) {}

  assertRecentSignIn(caller: Caller): void {
    const age = caller.authTime ? (this.clock.now().getTime() - caller.authTime.getTime()) / 1000 : Infinity;
    if (age > this.maxAgeSeconds) {
      throw new AppError('REAUTHENTICATION_REQUIRED', 'Sign in again to set up your first second factor.', {
        maxAgeSeconds: this.maxAgeSeconds,
      });
    }
  }
}
