import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { requireCaller } from '../callers/caller';
import type { Context } from '../graphql/context';
import { parseId } from '../ids';
import type { AuditQueryService } from './audit-query.service';
import { AuditEventConnection } from './audit.types';

@Resolver()
export class AuditResolver {
  constructor(private readonly events: AuditQueryService) {}

  @Query(() => AuditEventConnection, {
    description: 'Newest first. A user sees events about itself, an owner those of its organization, twofactor:read all.',
  })
  auditEvents(
    @Arg('userId', () => ID, { nullable: true }) userId: string | null,
    @Arg('organizationId', () => ID, { nullable: true }) organizationId: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() { caller }: Context,
  ): Promise<AuditEventConnection> {
    const authenticated = requireCaller(caller);
    return this.events.list(
      authenticated,
      {
        userId: userId === null || userId === undefined ? null : parseId(userId, 'userId'),
        organizationId: organizationId === null || organizationId === undefined ? null : parseId(organizationId, 'organizationId'),
      },
      first,
      after,
    );
  }
}
