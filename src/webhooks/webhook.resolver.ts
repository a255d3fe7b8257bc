import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import type { WebhookEndpointService } from './webhook-endpoint.service';
import {
  WebhookDelivery,
  WebhookDeliveryConnection,
  WebhookDeliveryState,
  WebhookEndpoint,
  WebhookEndpointSecret,
} from './webhook.types';

/** Security events as signed webhooks: endpoints and deliveries (twofactor:admin). */
@Resolver()
export class WebhookResolver {
  constructor(private readonly webhooks: WebhookEndpointService) {}

  @Authorized('twofactor:admin')
  @Query(() => [WebhookEndpoint])
  webhookEndpoints(): Promise<WebhookEndpoint[]> {
    return this.webhooks.list();
  }

  @Authorized('twofactor:admin')
  @Query(() => WebhookDeliveryConnection, { description: 'Newest first.' })
  webhookDeliveries(
    @IdArg('endpointId') endpointId: string,
    @Arg('state', () => WebhookDeliveryState, { nullable: true }) state: WebhookDeliveryState | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<WebhookDeliveryConnection> {
    return this.webhooks.deliveries(endpointId, state, first, after);
  }

  @Authorized('twofactor:admin')
  @Mutation(() => WebhookEndpointSecret, {
    description: 'https URLs only (see README.md for private networks); returns the signing secret once.',
  })
  createWebhookEndpoint(
    @Arg('url') url: string,
    @Arg('eventTypes', () => [String], { nullable: true }) eventTypes: string[] | null,
    @Ctx() { actor }: Context,
  ): Promise<WebhookEndpointSecret> {
    return this.webhooks.create(actor, url, eventTypes);
  }

  @Authorized('twofactor:admin')
  @Mutation(() => WebhookEndpoint)
  updateWebhookEndpoint(
    @IdArg('id') id: string,
    @Arg('url', () => String, { nullable: true }) url: string | null,
    @Arg('eventTypes', () => [String], { nullable: true }) eventTypes: string[] | null,
    @Arg('enabled', () => Boolean, { nullable: true }) enabled: boolean | null,
    @Ctx() { actor }: Context,
  ): Promise<WebhookEndpoint> {
    return this.webhooks.update(actor, id, { url, eventTypes, enabled });
  }

  @Authorized('twofactor:admin')
  @Mutation(() => WebhookEndpointSecret, {
    description: 'A new secret; the old one keeps signing beside it for 24 hours.',
  })
  rotateWebhookSecret(@IdArg('id') id: string, @Ctx() { actor }: Context): Promise<WebhookEndpointSecret> {
    return this.webhooks.rotate(actor, id);
  }

  @Authorized('twofactor:admin')
  @Mutation(() => Boolean)
  deleteWebhookEndpoint(@IdArg('id') id: string, @Ctx() { actor }: Context): Promise<boolean> {
    return this.webhooks.delete(actor, id);
  }

  @Authorized('twofactor:admin')
  @Mutation(() => WebhookDelivery, {
    description: 'Queues a FAILED delivery again, as a new attempt series with the same event id.',
  })
  retryWebhookDelivery(@Arg('id', () => ID) id: string, @Ctx() { actor }: Context): Promise<WebhookDelivery> {
    return this.webhooks.retry(actor, id);
  }
}
