import { Writable } from 'node:stream';
import { createLogger, currentRequestId, runWithRequestId } from '../../src/infra/logger';

/** The service's logger, writing into an array. */
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
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line)) };
}

describe('the logger: the request id on every line written for a request', () => {
  it('adds reqId to a line written while a request is served, however far from it', async () => {
    const { logger, parsed } = capture();
    await runWithRequestId('req-1', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.warn({ userId: 'alice' }, 'far from the request');
      expect(currentRequestId()).toBe('req-1');
    });
    expect(parsed()).toEqual([
      expect.objectContaining({ reqId: 'req-1', userId: 'alice', msg: 'far from the request' }),
    ]);
  });

  it('adds nothing outside a request (background jobs, start-up)', () => {
    const { logger, parsed } = capture();
    logger.info('a background job ran');
    expect(parsed()[0]).not.toHaveProperty('reqId');
    expect(currentRequestId()).toBeUndefined();
  });

  it('never writes reqId twice: a line that names one, or a logger bound to one (Fastify request logger), keeps its own', () => {
    const { logger, lines } = capture();
    runWithRequestId('req-2', () => {
      logger.error({ reqId: 'given' }, 'explicit');
      logger.child({ reqId: 'bound' }).info('bound');
      logger.child({ component: 'x' }).info('child without one');
    });
    expect(lines.map((line) => line.split('"reqId"').length - 1)).toEqual([1, 1, 1]);
    expect(lines.map((line) => JSON.parse(line).reqId)).toEqual(['given', 'bound', 'req-2']);
  });

  it('keeps each request apart when requests interleave', async () => {
    const { logger, parsed } = capture();
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        runWithRequestId(id, async () => {
          await tick();
          logger.info({ id }, 'step');
          await tick();
          logger.info({ id }, 'step');
        }),
      ),
    );
    for (const line of parsed()) expect(line.reqId).toBe(line.id);
  });
});
