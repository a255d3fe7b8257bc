// Baseline: bare Mercurius 16 on Fastify 5 with graphql-jit compiling every query
// from its first run (`jit: 1`), answering `{ __typename }`. What a user could pick
// instead of Apollo. Listens on 127.0.0.1:$PORT; prints "ready <port>".
import Fastify from 'fastify';
import mercurius from 'mercurius';

const fastify = Fastify({ logger: false });
await fastify.register(mercurius, {
  schema: 'type Query { ok: Boolean }',
  resolvers: {},
  jit: 1,
  graphiql: false,
  path: '/graphql',
});
await fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`ready ${fastify.server.address().port}\n`);

const stop = async () => {
  await fastify.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
