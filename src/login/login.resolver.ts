import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { AnswerArgs, answerOf } from '../attempts/answer-args';
import { ChecksAnswer } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { LoginService } from './login.service';
import { LoginChallenge, LoginVerification } from './login.types';

@Resolver()
export class LoginResolver {
  constructor(private readonly login: LoginService) {}

  @Authorized('twofactor:login')
  @Mutation(() => LoginChallenge, {
    description:
      'twofactor:login. Called by the login service after the password step. With the deviceToken a remembered browser holds, the challenge may come back already spent with its assertion; any other token is ignored.',
  })
  startLoginChallenge(
    @IdArg('userId') userId: string,
    @Arg('deviceToken', () => String, {
      nullable: true,
      description: 'The token verifyLoginChallenge gave with rememberDevice, as the browser keeps it.',
    })
    deviceToken: string | null,
    @Ctx() { actor }: Context,
  ): Promise<LoginChallenge> {
    return this.login.start(actor, userId, deviceToken);
  }

  @ChecksAnswer()
  @Mutation(() => LoginVerification, {
    description:
      "No token needed: the challenge id is the credential. `code` (TOTP, SMS or recovery code), or a security key answering the challenge's key options.",
  })
  verifyLoginChallenge(
    @Arg('challengeId', () => ID) challengeId: string,
    @Args() answer: AnswerArgs,
    @Arg('rememberDevice', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description: 'Asks for a deviceToken: this browser then skips the second factor for TRUSTED_DEVICE_DAYS.',
    })
    rememberDevice: boolean | null,
    @Arg('deviceName', () => String, {
      nullable: true,
      description:
        'With rememberDevice: what the user will see in its list (e.g. the browser and system), 1 to 64 characters.',
    })
    deviceName: string | null,
    @Ctx() { actor }: Context,
  ): Promise<LoginVerification> {
    return this.login.verify(actor, challengeId, answerOf(answer), rememberDevice ? { deviceName } : null);
  }
}

@Resolver(() => LoginVerification)
export class LoginVerificationResolver {
  constructor(private readonly statuses: TwoFactorStatusReader) {}

  /** After the commit (so a recovery code just used is counted), and only when asked: not under the user's lock. */
  @FieldResolver(() => Int)
  recoveryCodesRemaining(@Root() verification: LoginVerification): Promise<number> {
    return this.statuses.recoveryCodesRemaining(verification.userId);
  }
}
