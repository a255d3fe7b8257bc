import { type AuthChecker, Extensions, createParameterDecorator } from 'type-graphql';
import { type Caller, requireCaller, type Scope } from '../callers/caller';
import { AppError } from '../errors';
import type { Context } from './context';

/**
 * Who may call a field, declared with `@Authorized(...)`: no argument means any
 * signed-in caller; scopes add up (all that are named are needed). Rules that
 * depend on the data (the user itself, an organization's owners) are the
 * services' to check.
 */
export const authChecker: AuthChecker<Context, Scope> = ({ context }, scopes) => {
  const caller = requireCaller(context.caller);
  const missing = scopes.filter((scope) => !caller.scopes.has(scope));
  if (missing.length > 0) throw new AppError('FORBIDDEN', `This needs the ${missing.join(' and ')} scope.`);
  return true;
};

/** The signed-in caller (UNAUTHENTICATED without one). */
export function SignedIn() {
  return createParameterDecorator<Context>(({ context }): Caller => requireCaller(context.caller));
}

/** The extension that marks a field checking an answer (a code or a security key's response). */
export const CHECKS_ANSWER = 'checksAnswer';

/**
 * Marks a field that checks an answer: a document may hold at most one such
 * field (graphql/single-answer-rule.ts reads this mark from the schema).
 */
export const ChecksAnswer = () => Extensions({ [CHECKS_ANSWER]: true });
