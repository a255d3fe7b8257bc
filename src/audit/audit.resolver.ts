import { Arg, Authorized, Int, Query, Resolver } from 'type-graphql';
import type { Caller } from '../callers/caller';
import { SignedIn } from '../graphql/auth';
import { IdArg } from '../graphql/id-arg';
import type { AuditQueryService } from './audit-query.service';
import { AuditEventConnection } from './audit.types';

@Resolver()
export class AuditResolver {
  constructor(private readonly events: AuditQueryService) {}

  @Authorized()
  @Query(() => AuditEventConnection, {
    description:
      'Newest first. A user sees events about itself, an owner those of its organization, twofactor:read all.',
  })
  auditEvents(
    @IdArg('userId', { nullable: true }) userId: string | null,
    @IdArg('organizationId', { nullable: true }) organizationId: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @SignedIn() caller: Caller,
  ): Promise<AuditEventConnection> {
    return this.events.list(caller, { userId, organizationId }, first, after);
  }
}
