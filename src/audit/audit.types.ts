import { Field, ID, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import type { AuditEventRecord } from './audit-event.entity';

@ObjectType()
export class AuditEvent {
  @Field(() => ID)
  id: string;

  @Field({
    description:
      'E.g. TOTP_ENABLED, SMS_ENABLED, TWO_FACTOR_DISABLED, RECOVERY_CODE_USED, RECOVERY_CODES_REGENERATED, LOGIN_VERIFIED, LOGIN_FAILED, ORGANIZATION_REQUIRED_TWO_FACTOR, ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR, TWO_FACTOR_RESET_BY_ADMIN.',
  })
  action: string;

  @Field(() => ID, { nullable: true })
  userId: string | null;

  @Field(() => ID, { nullable: true })
  organizationId: string | null;

  @Field(() => String, { nullable: true, description: 'The user id or service subject that caused it.' })
  actorId: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The reason an admin gave, or why an attempt failed (never the code).',
  })
  reason: string | null;

  @Field(() => String, { nullable: true })
  clientIp: string | null;

  @Field(() => Date)
  occurredAt: Date;

  static of(record: AuditEventRecord): AuditEvent {
    return Object.assign(new AuditEvent(), {
      id: String(record.id),
      action: record.action,
      userId: record.userId,
      organizationId: record.organizationId,
      actorId: record.actorId,
      reason: record.reason,
      clientIp: record.clientIp,
      occurredAt: record.occurredAt,
    });
  }
}

@ObjectType()
export class AuditEventConnection extends Connection('AuditEvent', AuditEvent) {}
