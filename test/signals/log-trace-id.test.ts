import { Writable } from 'node:stream';
import { createLogger, runWithRequestId, useTraceIds } from '../../src/infra/logger';

/** The logger names the active span's trace (telemetry/tracing.ts gives it the source when tracing runs). */
function capture() {
  const lines: string[] = [];
  const logger = createLogger('info', {
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
  return { logger, parsed: () => lines.map((line) => JSON.parse(line)) };
}

describe('the trace id in log lines', () => {
  afterEach(() => useTraceIds(() => undefined));

  it('is absent without tracing', () => {
    const { logger, parsed } = capture();
    runWithRequestId('req-1', () => logger.info('served'));
    expect(parsed()[0]).toMatchObject({ reqId: 'req-1' });
    expect(parsed()[0]).not.toHaveProperty('trace_id');
  });

  it("is on every line written inside a span, the request's line and Fastify's own included", () => {
    let active: string | undefined = '4bf92f3577b34da6a3ce929d0e0e4736';
    useTraceIds(() => active);
    const { logger, parsed } = capture();
    runWithRequestId('req-2', () => logger.info('in a service'));
    logger.child({ reqId: 'req-3' }).info({ status: 200 }, 'request');
    active = undefined;
    logger.info('between spans');
    expect(parsed()).toEqual([
      expect.objectContaining({ reqId: 'req-2', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', msg: 'in a service' }),
      expect.objectContaining({ reqId: 'req-3', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', msg: 'request' }),
      expect.not.objectContaining({ trace_id: expect.anything() }),
    ]);
  });
});
