import { GraphQLJSON } from 'graphql-scalars';
import { ArgsType, Field } from 'type-graphql';
import type { Answer } from './second-factor';

/** The answer arguments of every step-up operation: exactly one of them when an answer is required. */
@ArgsType()
export class AnswerArgs {
  @Field(() => String, {
    nullable: true,
    description: 'A current TOTP code, an SMS code sent for this, or an unused recovery code.',
  })
  code?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'A WebAuthn AuthenticationResponseJSON answering the options of startWebAuthnStepUp (or of the login challenge).',
  })
  webAuthn?: unknown;
}

/** What the arguments give, without the ones left out. */
export const answerOf = ({ code, webAuthn }: AnswerArgs): Answer => ({
  ...(code === null || code === undefined ? {} : { code }),
  ...(webAuthn === null || webAuthn === undefined ? {} : { webAuthn }),
});
