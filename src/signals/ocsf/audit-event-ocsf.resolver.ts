import { GraphQLJSON } from 'graphql-scalars';
import { FieldResolver, Resolver, Root } from 'type-graphql';
import { AuditEvent } from '../../audit/audit.types';
import type { FactorActions } from '../../audit/factor-actions';
import { type OcsfRecord, toOcsf } from './ocsf-mapping';

/**
 * AuditEvent.ocsf: the event as an OCSF 1.7.0 record. Read from the node the
 * caller was given, so an address hidden there (clientIp null) is absent here too.
 */
@Resolver(() => AuditEvent)
export class AuditEventOcsfResolver {
  constructor(private readonly factors: FactorActions) {}

  @FieldResolver(() => GraphQLJSON, {
    description:
      'The event as an OCSF 1.7.0 record (Authentication 3002, Account Change 3001, Entity Management 3004, Group Management 3006), as GET /audit/ocsf serves it.',
  })
  ocsf(@Root() event: AuditEvent): OcsfRecord {
    return toOcsf(event, this.factors);
  }
}
