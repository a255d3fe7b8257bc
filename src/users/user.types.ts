import { Field, ID, Int, type MiddlewareFn, ObjectType, UseMiddleware } from 'type-graphql';
import { AppError } from '../errors';
import { TwoFactorMethod } from './two-factor-method';

/** On a status that an owner sees of a member: the member's id. Only `enabled` and `methods` may then be read. */
export const MEMBER_SUMMARY_OF = Symbol('member summary of');

/** Refuses a field of a status that an owner sees of a member (only the user itself and twofactor:read see it). */
export function assertSelfOrReader(status: TwoFactorStatus, field: string): void {
  const memberId = (status as { [MEMBER_SUMMARY_OF]?: string })[MEMBER_SUMMARY_OF];
  if (memberId !== undefined)
    // Said without a name: the owner reading her own row is told where her own status is.
    throw new AppError(
      'FORBIDDEN',
      `A member row shows only twoFactor { enabled methods }: ${field} is for the user itself (query me) and twofactor:read callers.`,
    );
}

/** Fields only the user itself and twofactor:read callers see. */
const selfOrReaderOnly: MiddlewareFn = ({ root, info }, next) => {
  assertSelfOrReader(root as TwoFactorStatus, info.fieldName);
  return next();
};

@ObjectType()
export class TotpAuthenticator {
  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt: Date | null;
}

@ObjectType()
export class SmsAuthenticator {
  @Field({ description: 'E.g. +1 ••• ••• 1234: never the whole number.' })
  phoneNumberMasked: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt: Date | null;
}

@ObjectType()
export class TwoFactorStatus {
  /** Whose status this is (not a field): for the fields that factors add to this type. */
  userId?: string;

  // `simple`: plain fields skip type-graphql's per-field wrapper (a hot read); the guarded ones below keep it.
  @Field({
    simple: true,
    description: 'True while at least one second factor (TOTP, SMS, security key) is set up and confirmed.',
  })
  enabled: boolean;

  @UseMiddleware(selfOrReaderOnly)
  @Field({
    description:
      'True after 100 failed attempts in a row: TOTP and SMS codes are refused until a recovery code is used or an admin resets two-factor.',
  })
  locked: boolean;

  @Field(() => [TwoFactorMethod], {
    simple: true,
    description: 'The confirmed second factors, in the order TwoFactorMethod lists them (never RECOVERY_CODE).',
  })
  methods: TwoFactorMethod[];

  @Field(() => TotpAuthenticator, { nullable: true })
  totp: TotpAuthenticator | null;

  @Field(() => SmsAuthenticator, { nullable: true })
  sms: SmsAuthenticator | null;

  @UseMiddleware(selfOrReaderOnly)
  @Field(() => Int)
  recoveryCodesRemaining: number;

  @Field(() => Date, { nullable: true })
  enabledAt: Date | null;
}

/**
 * A user as the caller may see it. `full`: the user itself or twofactor:read.
 * `summary`: an owner looking at a member: id, twoFactor { enabled methods }.
 */
@ObjectType('User')
export class UserView {
  @Field(() => ID, { simple: true })
  id: string;

  visibility: 'full' | 'summary';

  static full(id: string): UserView {
    return Object.assign(new UserView(), { id, visibility: 'full' as const });
  }

  static summary(id: string): UserView {
    return Object.assign(new UserView(), { id, visibility: 'summary' as const });
  }
}
