import { Arg, Authorized, Int, Query, Resolver } from 'type-graphql';
import { badInput } from '../errors';
import { toPage } from '../graphql/connection';
import { LIMITS } from '../limits';
import { decodeCursor, encodeCursor, pageSize } from '../pagination';
import { AuthenticatorModel, AuthenticatorModelConnection, MetadataServiceStatus } from './authenticators.types';
import type { ModelRegistry } from './model-catalog';

/** The loaded Metadata Service blob: its models (any caller with a token) and its status (twofactor:admin). */
@Resolver()
export class AuthenticatorModelResolver {
  constructor(private readonly models: ModelRegistry) {}

  @Authorized()
  @Query(() => AuthenticatorModelConnection, {
    description:
      'Any caller with a token. Models the loaded Metadata Service blob lists, by name (case-insensitive substring when `search` is given), for choosing an allow-list.',
  })
  authenticatorModels(
    @Arg('search', () => String, { nullable: true }) search: string | null | undefined,
    @Arg('first', () => Int, { nullable: true, defaultValue: LIMITS.defaultPageSize }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null | undefined,
  ): AuthenticatorModelConnection {
    if (search && search.length > LIMITS.maxModelSearchLength) {
      throw badInput(`search is at most ${LIMITS.maxModelSearchLength} characters.`, 'search');
    }
    const limit = pageSize(first);
    const term = (search ?? '').trim().toLowerCase();
    // A cursor is the model's place in the order (name, then AAGUID): it stays right when a new blob comes in.
    const list = `authenticatorModels:${term}`;
    const position = decodeCursor(after, list);
    const matching = this.models.current.models().filter((model) => model.name.toLowerCase().includes(term));
    const place = (model: { name: string; aaguid: string }) => `${model.name.toLowerCase()}\u0000${model.aaguid}`;
    const rest = position === undefined ? matching : matching.filter((model) => place(model) > position);
    const page = toPage(rest.slice(0, limit + 1), limit, (model) => ({
      cursor: encodeCursor(list, place(model)),
      node: AuthenticatorModel.of(model),
    }));
    return Object.assign(new AuthenticatorModelConnection(), page, { totalCount: matching.length });
  }

  @Authorized('twofactor:admin')
  @Query(() => MetadataServiceStatus, { description: 'twofactor:admin. What Metadata Service blob is loaded.' })
  metadataServiceStatus(): MetadataServiceStatus {
    return MetadataServiceStatus.of(this.models.current.blob);
  }
}
