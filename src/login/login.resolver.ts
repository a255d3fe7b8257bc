import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireScope } from '../callers/caller';
import { SmsCodeSent } from '../factors/sms/sms.types';
import type { Context } from '../graphql/context';
import { parseId } from '../ids';
import type { LoginService } from './login.service';
import { LoginChallenge, LoginVerification } from './login.types';

@Resolver()
export class LoginResolver {
  constructor(private readonly login: LoginService) {}

  @Mutation(() => LoginChallenge, { description: 'twofactor:login. Called by the login service after the password step.' })
  startLoginChallenge(@Arg('userId', () => ID) userId: string, @Ctx() { caller }: Context): Promise<LoginChallenge> {
    requireScope(caller, 'twofactor:login');
    return this.login.start(parseId(userId, 'userId'));
  }

  @Mutation(() => SmsCodeSent, { description: 'No token needed: the challenge id is the credential.' })
  sendLoginSmsCode(@Arg('challengeId', () => ID) challengeId: string, @Ctx() { actor }: Context): Promise<SmsCodeSent> {
    return this.login.sendSmsCode(actor, challengeId);
  }

  @Mutation(() => LoginVerification, {
    description: 'No token needed: the challenge id is the credential. `code`: TOTP, SMS or recovery code.',
  })
  verifyLoginChallenge(
    @Arg('challengeId', () => ID) challengeId: string,
    @Arg('code') code: string,
    @Ctx() { actor }: Context,
  ): Promise<LoginVerification> {
    return this.login.verify(actor, challengeId, code);
  }
}
