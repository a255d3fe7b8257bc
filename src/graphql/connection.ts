import { type ClassType, Field, ObjectType } from 'type-graphql';

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface Page<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: PageInfo;
}

/**
 * A Relay-style connection of `Node`s, named after them (`MemberConnection`,
 * `MemberEdge`): extend it with an `@ObjectType()` class, adding fields such as
 * `totalCount`.
 */
export function Connection<Node extends object>(name: string, node: ClassType<Node>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor: string;

    @Field(() => node)
    node: Node;
  }

  @ObjectType()
  abstract class ConnectionType implements Page<Node> {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;
  }
  return ConnectionType;
}

/**
 * One page from rows fetched with a limit one larger than the page: the extra
 * row, if any, only says that there is a next page.
 */
export function toPage<Row, Node>(
  rows: Row[],
  limit: number,
  toEdge: (row: Row) => { cursor: string; node: Node },
): Page<Node> {
  const edges = rows.slice(0, limit).map(toEdge);
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
