import { GraphQLError, type ValidationRule } from 'graphql';

/**
 * An operation whose type the schema lacks (a subscription: there are none) is
 * refused while validating. graphql 16 lets it through validation and fails it in
 * execution, which Apollo answered as INTERNAL_SERVER_ERROR with an error log
 * (graphql 17 adds this rule as KnownOperationTypesRule).
 */
export const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This service has no ${node.operation} operations.`, { nodes: node }));
    }
  },
});
