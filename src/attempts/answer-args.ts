import { GraphQLJSON } from 'graphql-scalars';
import { Args, ArgsType, Extensions, Field } from 'type-graphql';
import { CHECKS_ANSWER } from '../graphql/auth';
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

  /** What the arguments give, without the ones left out. */
  get answer(): Answer {
    return answerOf(this);
  }
}

/** What the arguments give, without the ones left out. */
export const answerOf = ({ code, webAuthn }: Pick<AnswerArgs, 'code' | 'webAuthn'>): Answer => ({
  ...(code === null || code === undefined ? {} : { code }),
  ...(webAuthn === null || webAuthn === undefined ? {} : { webAuthn }),
});

/**
 * A step-up's answer, declared once: the parameter takes the answer arguments
 * (`code`, `webAuthn`: AnswerArgs, read as `.answer`), and its field is marked as
 * one that checks an answer, so a document may hold at most one such field
 * (graphql/single-answer-rule.ts).
 */
export function StepUp(): ParameterDecorator {
  return (prototype, propertyKey, index) => {
    if (typeof propertyKey !== 'string') throw new Error('@StepUp() goes on a resolver method parameter');
    Args(() => AnswerArgs)(prototype, propertyKey, index);
    Extensions({ [CHECKS_ANSWER]: true })(prototype, propertyKey);
  };
}
