import { AppError } from '../errors';

export type Scope = 'twofactor:read' | 'twofactor:login' | 'twofactor:directory' | 'twofactor:admin';

/** Who is calling: from a verified bearer token, or nobody. */
export interface Caller {
  /** The token's `sub`: a user id, or a service's subject. */
  subject: string;
  scopes: ReadonlySet<string>;
  /** When the subject last signed in (`auth_time`), if the token says. */
  authTime?: Date;
}

export function requireCaller(caller: Caller | null): Caller {
  if (!caller) throw new AppError('UNAUTHENTICATED', 'A bearer token is required.');
  return caller;
}

export function requireScope(caller: Caller | null, scope: Scope): Caller {
  const authenticated = requireCaller(caller);
  if (!authenticated.scopes.has(scope)) throw new AppError('FORBIDDEN', `This needs the ${scope} scope.`);
  return authenticated;
}

export const hasScope = (caller: Caller | null, scope: Scope) => caller?.scopes.has(scope) ?? false;

/** Who did it, from where: taken from the request by the resolvers, for audit events. */
export interface Actor {
  actorId: string | null;
  clientIp: string | null;
}
