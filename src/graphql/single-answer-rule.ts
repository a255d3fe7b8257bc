import { GraphQLError, type ValidationRule } from 'graphql';
import { AppError } from '../errors';
import { CHECKS_ANSWER } from './auth';

/**
 * At most one answer-checking field per document (fields marked
 * `@ChecksAnswer()`), aliases and fragments included, so one request cannot
 * carry many guesses. Refused before anything runs, as BAD_USER_INPUT.
 */
export const singleAnswerRule: ValidationRule = (context) => {
  let count = 0;
  return {
    Field(node) {
      if (!context.getFieldDef()?.extensions?.[CHECKS_ANSWER]) return;
      count += 1;
      if (count === 2) {
        const message = 'A request may check at most one code: send one code-checking field per document.';
        context.reportError(
          new GraphQLError(message, { nodes: [node], originalError: new AppError('BAD_USER_INPUT', message) }),
        );
      }
    },
  };
};
