import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import type { WebhookEndpointRecord } from './webhook.entities';
import type { DeliveryRow } from './webhook.repository';

export enum WebhookDeliveryState {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}

registerEnumType(WebhookDeliveryState, {
  name: 'WebhookDeliveryState',
  valuesConfig: {
    PENDING: { description: 'Waiting for its next attempt (nextAttemptAt).' },
    DELIVERED: { description: 'An attempt got a 2xx answer.' },
    FAILED: { description: 'Gave up: attempts exhausted, or the endpoint answered 410 or was disabled.' },
  },
});

@ObjectType()
export class WebhookEndpoint {
  @Field(() => ID)
  id: string;

  @Field()
  url: string;

  @Field(() => [String], { description: 'Event types sent to it; empty means every type.' })
  eventTypes: string[];

  @Field()
  enabled: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Why the service disabled it (e.g. it answered 410); null when enabled or disabled by hand.',
  })
  disabledReason: string | null;

  @Field(() => Date)
  createdAt: Date;

  static of(record: WebhookEndpointRecord): WebhookEndpoint {
    return Object.assign(new WebhookEndpoint(), {
      id: record.id,
      url: record.url,
      eventTypes: record.eventTypes ? record.eventTypes.split(',') : [],
      enabled: record.enabled,
      disabledReason: record.disabledReason,
      createdAt: record.createdAt,
    });
  }
}

@ObjectType()
export class WebhookEndpointSecret {
  @Field(() => WebhookEndpoint)
  endpoint: WebhookEndpoint;

  @Field({ description: 'whsec_ followed by base64: shown only here, once.' })
  secret: string;
}

@ObjectType()
export class WebhookDelivery {
  @Field(() => ID)
  id: string;

  @Field(() => ID, { description: "The event's id: the webhook-id header, the same on every attempt." })
  eventId: string;

  @Field()
  eventType: string;

  @Field(() => WebhookDeliveryState)
  state: WebhookDeliveryState;

  @Field(() => Int)
  attempts: number;

  @Field(() => Int, { nullable: true, description: 'The HTTP status of the last attempt; null when it got no answer.' })
  lastStatus: number | null;

  @Field(() => String, { nullable: true })
  lastError: string | null;

  @Field(() => Date, { nullable: true })
  nextAttemptAt: Date | null;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  deliveredAt: Date | null;

  static of(row: DeliveryRow): WebhookDelivery {
    return Object.assign(new WebhookDelivery(), {
      id: row.id,
      eventId: row.webhookId,
      eventType: row.eventType,
      state: row.state as WebhookDeliveryState,
      attempts: row.attempts,
      lastStatus: row.lastStatus,
      lastError: row.lastError,
      nextAttemptAt: row.state === 'PENDING' ? row.nextAttemptAt : null,
      createdAt: row.createdAt,
      deliveredAt: row.deliveredAt,
    });
  }
}

@ObjectType()
export class WebhookDeliveryConnection extends Connection('WebhookDelivery', WebhookDelivery) {}
