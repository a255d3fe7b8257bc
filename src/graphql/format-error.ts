import { ApolloServerValidationErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError } from '../errors';
import { translateDatabaseError } from '../infra/db/database';
import type { Logger } from '../infra/logger';

const PASSED_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

const INTROSPECTION_OFF =
  'Introspection is off on this server (__schema and __type); it is turned on with INTROSPECTION=true.';

/**
 * The one place errors become what callers see: AppErrors keep their code and
 * extensions; Apollo's own request errors pass through; everything else is
 * logged and masked (no stack, no driver message).
 */
export function createErrorFormatter(
  logger: Logger,
  production: boolean,
  requestId: () => string | undefined = () => undefined,
) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = translateDatabaseError(findAppError(error) ?? unwrapResolverError(error));
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { ...original.extensions, code: original.code },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASSED_THROUGH.has(code)) {
      // Arguments that fail GraphQL coercion are the caller's mistake.
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      // Apollo's own text names its constructor option; operators set INTROSPECTION.
      const message =
        extensions.validationErrorCode === ApolloServerValidationErrorCode.INTROSPECTION_DISABLED
          ? INTROSPECTION_OFF
          : formatted.message;
      return { ...formatted, message, extensions: { ...extensions, code } };
    }
    if (
      original instanceof GraphQLError &&
      typeof original.extensions?.code === 'string' &&
      original.extensions.code !== 'INTERNAL_SERVER_ERROR'
    ) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    // reqId as on Fastify's request log lines, so support finds the request.
    logger.error({ err: original, path: formatted.path, reqId: requestId() }, 'unexpected error');
    return {
      message: production
        ? 'Internal server error'
        : `Internal server error: ${(original as Error)?.message ?? 'unknown'}`,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** An AppError anywhere in the chain (validation rules wrap theirs in Apollo's ValidationError). */
function findAppError(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    if (current instanceof AppError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}
