import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { sign, WebhookSigner } from '../../src/webhooks/delivery-worker';

/**
 * The worker signs with node:crypto's HMAC (the standardwebhooks package's
 * pure-JS SHA-256 cost each attempt about 25 µs): byte for byte what the
 * package signs, and what it verifies.
 */
describe('webhooks: signatures', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const previous = `whsec_${randomBytes(32).toString('base64')}`;
  const payloads = [
    '{"type":"login.verified","timestamp":"2026-12-07T22:00:00.000Z","data":{"userId":"alice"}}',
    '{"type":"factor.added","data":{"userId":"Zoë 🙂 ünïcode","phoneNumberMasked":"+1 ••• ••• 0123"}}',
    '',
  ];

  it('signs as the standardwebhooks package does', () => {
    const timestamp = new Date('2026-12-07T22:00:00.987Z');
    for (const payload of payloads) {
      expect(new WebhookSigner(secret).sign('msg_abc', timestamp, payload)).toBe(
        new Webhook(secret).sign('msg_abc', timestamp, payload),
      );
    }
  });

  it('signs under every secret given, in order, which the package verifies', () => {
    const timestamp = new Date();
    const payload = payloads[1];
    const header = sign([new WebhookSigner(secret), new WebhookSigner(previous)], 'msg_xyz', timestamp, payload);
    expect(header.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': 'msg_xyz',
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': header,
    };
    for (const key of [secret, previous])
      expect(new Webhook(key).verify(payload, headers)).toEqual(JSON.parse(payload));
  });
});
