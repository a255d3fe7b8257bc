import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { AnswerArgs, StepUp } from '../../attempts/answer-args';
import type { Caller } from '../../callers/caller';
import { ChecksAnswer, SignedIn } from '../../graphql/auth';
import type { Context } from '../../graphql/context';
import { LoginChallenge } from '../../login/login.types';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { assertSelfOrReader, TwoFactorStatus } from '../../users/user.types';
import { TwoFactorSetupResult } from '../two-factor.types';
import type { WebAuthnService } from './webauthn.service';
import { JSONScalar, WebAuthnChallenge, WebAuthnCredential, WebAuthnRegistration } from './webauthn.types';

@Resolver()
export class WebAuthnResolver {
  constructor(private readonly webAuthn: WebAuthnService) {}

  @Authorized()
  @Mutation(() => WebAuthnChallenge, {
    description:
      'Options (single use, 5 minutes) for a step-up with a security key; pass the response as `webAuthn` to a step-up mutation.',
  })
  startWebAuthnStepUp(@SignedIn() caller: Caller): Promise<WebAuthnChallenge> {
    return this.webAuthn.startStepUp(caller);
  }

  @Authorized()
  @Mutation(() => WebAuthnRegistration, {
    description:
      'Starts registering a security key or passkey; nothing changes until confirmed. A step-up answer is required when two-factor is on; the first factor needs a recent sign-in.',
  })
  startWebAuthnRegistration(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<WebAuthnRegistration> {
    return this.webAuthn.startRegistration(caller, actor, stepUp.answer);
  }

  @Authorized()
  @ChecksAnswer()
  @Mutation(() => TwoFactorSetupResult, {
    description:
      "Confirms with the authenticator's RegistrationResponseJSON; the first factor turns two-factor on (and issues recovery codes).",
  })
  confirmWebAuthnRegistration(
    @Arg('response', () => JSONScalar) response: unknown,
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorSetupResult> {
    return this.webAuthn.confirmRegistration(caller, actor, response, name);
  }

  @Authorized()
  @Mutation(() => WebAuthnCredential)
  renameWebAuthnCredential(
    @Arg('id', () => ID) id: string,
    @Arg('name') name: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<WebAuthnCredential> {
    return this.webAuthn.rename(actor, caller.subject, id, name);
  }

  @Authorized()
  @Mutation(() => TwoFactorStatus, {
    description: 'Step-up required. Removing the last factor follows the same rules as removeTotp.',
  })
  removeWebAuthnCredential(
    @Arg('id', () => ID) id: string,
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorStatus> {
    return this.webAuthn.remove(actor, caller.subject, id, stepUp.answer);
  }
}

/** The fields WebAuthn adds to the two-factor status. */
@Resolver(() => TwoFactorStatus)
export class WebAuthnStatusResolver {
  constructor(private readonly webAuthn: WebAuthnService) {}

  @FieldResolver(() => [WebAuthnCredential], { description: 'Confirmed security keys and passkeys, oldest first.' })
  async webAuthnCredentials(@Root() status: TwoFactorStatus, @Ctx() context: Context): Promise<WebAuthnCredential[]> {
    assertSelfOrReader(status, 'webAuthnCredentials');
    return this.credentialsOf(status, context);
  }

  @FieldResolver(() => Boolean, {
    description:
      'True while the user has a security key or passkey that every organization of the user requiring a phishing-resistant factor accepts (in none: any key whose model the Metadata Service does not report compromised).',
  })
  async phishingResistant(@Root() status: TwoFactorStatus, @Ctx() context: Context): Promise<boolean> {
    assertSelfOrReader(status, 'phishingResistant');
    return (await this.credentialsOf(status, context)).some((credential) => credential.acceptedByOrganizations);
  }

  /** The user's credentials as callers see them, the users of one request read together. */
  private async credentialsOf(status: TwoFactorStatus, context: Context): Promise<WebAuthnCredential[]> {
    if (!status.userId || !status.methods.includes(TwoFactorMethod.WEBAUTHN)) return [];
    const loader = context.batch('webAuthnCredentials', async (userIds) => {
      const records = await this.webAuthn.list(userIds);
      const views = await this.webAuthn.views(records);
      return userIds.map((userId) => views.filter((_, i) => records[i].userId === userId));
    });
    return loader.load(status.userId);
  }
}

/** `LoginChallenge.webAuthnOptions`: request options bound to that challenge. */
@Resolver(() => LoginChallenge)
export class WebAuthnLoginResolver {
  constructor(private readonly webAuthn: WebAuthnService) {}

  @FieldResolver(() => JSONScalar, {
    nullable: true,
    description:
      'Request options bound to this challenge when the user has WebAuthn credentials; else null (also for a challenge a trusted device already spent).',
  })
  async webAuthnOptions(@Root() challenge: LoginChallenge): Promise<unknown> {
    if (challenge.assertion) return null;
    return this.webAuthn.loginOptions(challenge);
  }
}
