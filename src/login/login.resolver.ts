import { Arg, Args, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { AnswerArgs, answerOf } from '../graphql/answer-args';
import { ChecksAnswer } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import type { LoginService } from './login.service';
import { LoginChallenge, LoginVerification } from './login.types';

@Resolver()
export class LoginResolver {
  constructor(private readonly login: LoginService) {}

  @Authorized('twofactor:login')
  @Mutation(() => LoginChallenge, {
    description: 'twofactor:login. Called by the login service after the password step.',
  })
  startLoginChallenge(@IdArg('userId') userId: string): Promise<LoginChallenge> {
    return this.login.start(userId);
  }

  @ChecksAnswer()
  @Mutation(() => LoginVerification, {
    description:
      'No token needed: the challenge id is the credential. `code` (TOTP, SMS or recovery code) or `webAuthn` (to LoginChallenge.webAuthnOptions).',
  })
  verifyLoginChallenge(
    @Arg('challengeId', () => ID) challengeId: string,
    @Args() answer: AnswerArgs,
    @Ctx() { actor }: Context,
  ): Promise<LoginVerification> {
    return this.login.verify(actor, challengeId, answerOf(answer));
  }
}
