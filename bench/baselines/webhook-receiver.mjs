// The live webhook receiver of `npm run bench`: a process of its own on
// 127.0.0.1:$PORT that verifies every delivery with standardwebhooks (secret in
// WEBHOOK_SECRET), answers 204, and counts what came (GET /stats). What a real
// receiver costs the service: answers in about a millisecond, signatures checked.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.WEBHOOK_SECRET);
const stats = { requests: 0, distinctIds: 0, invalid: 0, byType: {}, firstAt: null, lastAt: null };
const seen = new Set();

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(stats));
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    stats.requests += 1;
    stats.lastAt = new Date().toISOString();
    stats.firstAt ??= stats.lastAt;
    try {
      const event = webhook.verify(Buffer.concat(chunks), request.headers);
      const id = request.headers['webhook-id'];
      if (!seen.has(id)) {
        seen.add(id);
        stats.distinctIds += 1;
        stats.byType[event.type] = (stats.byType[event.type] ?? 0) + 1;
      }
      response.writeHead(204);
    } catch {
      stats.invalid += 1;
      response.writeHead(400);
    }
    response.end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
