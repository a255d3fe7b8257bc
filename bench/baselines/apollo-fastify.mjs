// Baseline: bare Apollo Server 5 on Fastify 5 (@as-integrations/fastify, the project's
// versions), answering `{ __typename }` with no resolvers of ours. Listens on
// 127.0.0.1:$PORT; prints "ready <port>" once it listens.
import { ApolloServer } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify from 'fastify';

const fastify = Fastify({ logger: false });
const apollo = new ApolloServer({
  typeDefs: 'type Query { ok: Boolean }',
  introspection: false,
  plugins: [fastifyApolloDrainPlugin(fastify)],
});
await apollo.start();
await fastify.register(fastifyApollo(apollo), { path: '/graphql', method: ['POST'] });
await fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`ready ${fastify.server.address().port}\n`);

const stop = async () => {
  await fastify.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
