import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface PublishedSms {
  phoneNumber: string;
  message: string;
  attributes: Record<string, string>;
  /** The only 6-digit number in the message (besides a WebOTP line's). */
  code: string;
}

export type FakeSnsMode = 'ok' | 'error' | 'throttle' | 'hang';

/**
 * A local HTTP server that speaks SNS's Query protocol for Publish, so tests run
 * the real @aws-sdk/client-sns against it: it checks what was sent and answers
 * with a PublishResponse, a 500, a Throttling error, or not at all.
 */
export class FakeSns {
  readonly published: PublishedSms[] = [];
  mode: FakeSnsMode = 'ok';
  requests = 0;
  private server?: Server;
  private hanging: ServerResponse[] = [];

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The codes sent to a number, oldest first. */
  codesTo(phoneNumber: string): string[] {
    return this.published.filter((sms) => sms.phoneNumber === phoneNumber).map((sms) => sms.code);
  }

  lastCodeTo(phoneNumber: string): string {
    const codes = this.codesTo(phoneNumber);
    if (codes.length === 0) throw new Error(`no SMS to ${phoneNumber}`);
    return codes[codes.length - 1];
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.requests += 1;
    let body = '';
    for await (const chunk of request) body += chunk;
    const form = new URLSearchParams(body);
    if (
      request.method !== 'POST' ||
      form.get('Action') !== 'Publish' ||
      form.get('Version') !== '2010-03-31' ||
      !String(request.headers.authorization).startsWith('AWS4-HMAC-SHA256')
    ) {
      response.writeHead(400, { 'content-type': 'text/xml' }).end(errorXml('InvalidParameter', 'not a signed Publish'));
      return;
    }
    if (this.mode === 'hang') {
      this.hanging.push(response);
      return;
    }
    if (this.mode === 'error') {
      response.writeHead(500, { 'content-type': 'text/xml' }).end(errorXml('InternalError', 'boom', 'Receiver'));
      return;
    }
    if (this.mode === 'throttle') {
      response.writeHead(400, { 'content-type': 'text/xml' }).end(errorXml('Throttling', 'Rate exceeded'));
      return;
    }
    const attributes: Record<string, string> = {};
    for (let index = 1; form.has(`MessageAttributes.entry.${index}.Name`); index += 1) {
      attributes[form.get(`MessageAttributes.entry.${index}.Name`)!] =
        form.get(`MessageAttributes.entry.${index}.Value.StringValue`) ?? '';
    }
    const message = form.get('Message') ?? '';
    // The WebOTP line (`@domain #code`, last) repeats the code; the text before it must hold it once.
    const numbers = message.replace(/\n@[^\n]* #\d+$/, '').match(/\d+/g) ?? [];
    const sixDigit = numbers.filter((n) => n.length === 6);
    this.published.push({
      phoneNumber: form.get('PhoneNumber') ?? '',
      message,
      attributes,
      code: sixDigit.length === 1 ? sixDigit[0] : 'NOT-EXACTLY-ONE-CODE',
    });
    response
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
  }
}

function errorXml(code: string, message: string, type = 'Sender'): string {
  return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}
