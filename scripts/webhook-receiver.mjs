// A webhook receiver for trying the service's webhooks locally: it checks each
// delivery's Standard Webhooks signature (the standardwebhooks package, as a
// real receiver would) and prints it. Usage: npm run -s webhook-receiver -- --help
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const USAGE = `usage: npm run -s webhook-receiver -- --secret <whsec_...> [--port 9000] [--host 127.0.0.1] [--status 204]

Listens on http://<host>:<port>/ (any path) and checks every POST as a receiver
must: the webhook-signature under the endpoint's secret (the one
createWebhookEndpoint or rotateWebhookSecret showed), and a webhook-timestamp
within 5 minutes. It prints one line of JSON per delivery on stdout:

  {"webhook-id":"msg_...","webhook-timestamp":1796187205,"event":{"type":"factor.removed",...}}

and answers --status (204 by default; 410 makes the service disable the endpoint).
A delivery that does not verify is printed with "refused" and answered 400.
"listening on <url>" goes to stderr once it accepts connections; SIGINT or SIGTERM
stops it.

The service delivers to http and loopback addresses only with
WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.
`;

function fail(message) {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArguments(argv) {
  const flags = { secret: '', port: '9000', host: '127.0.0.1', status: '204' };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--help' || argument === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const name = argument.replace(/^--/, '');
    if (!argument.startsWith('--') || !(name in flags) || index + 1 >= argv.length)
      fail(`unknown argument or missing value: ${argument}`);
    flags[name] = argv[(index += 1)];
  }
  if (!flags.secret.startsWith('whsec_')) fail('--secret: the endpoint secret, whsec_...');
  const port = Number(flags.port);
  const status = Number(flags.status);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: not a port: ${flags.port}`);
  if (!Number.isInteger(status) || status < 200 || status > 599) fail(`--status: not an HTTP status: ${flags.status}`);
  return { ...flags, port, status };
}

const { secret, port, host, status } = parseArguments(process.argv.slice(2));
const webhook = new Webhook(secret);

const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = request.headers['webhook-id'];
    let line;
    try {
      const event = webhook.verify(body, request.headers);
      line = { 'webhook-id': id, 'webhook-timestamp': Number(request.headers['webhook-timestamp']), event };
      response.writeHead(status).end();
    } catch (error) {
      line = { 'webhook-id': id ?? null, refused: error.message };
      response.writeHead(400, { 'content-type': 'text/plain' }).end('signature not verified');
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  });
});

server.on('error', (error) => {
  process.stderr.write(`webhook-receiver: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  process.stderr.write(`listening on http://${host}:${address.port}/\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
