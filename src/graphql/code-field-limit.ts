import { GraphQLError, type ValidationRule } from 'graphql';
import { AppError } from '../errors';

/** The operations whose `code` argument is checked against a second factor. */
export const CODE_CHECKING_FIELDS = new Set([
  'startTotpSetup',
  'confirmTotpSetup',
  'startSmsSetup',
  'confirmSmsSetup',
  'viewRecoveryCodes',
  'regenerateRecoveryCodes',
  'removeTotp',
  'removeSms',
  'disableTwoFactor',
  'verifyLoginChallenge',
]);

/**
 * At most one code-checking field per document, aliases and fragments
 * included, so one request cannot carry many guesses. Refused before anything
 * runs, as BAD_USER_INPUT.
 */
export const singleCodeCheckRule: ValidationRule = (context) => {
  let count = 0;
  return {
    Field(node) {
      if (!CODE_CHECKING_FIELDS.has(node.name.value)) return;
      count += 1;
      if (count === 2) {
        const message = 'A request may check at most one code: send one code-checking field per document.';
        context.reportError(new GraphQLError(message, { nodes: [node], originalError: new AppError('BAD_USER_INPUT', message) }));
      }
    },
  };
};
