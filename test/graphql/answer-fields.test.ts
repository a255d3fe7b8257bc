import 'reflect-metadata';
import { CHECKS_ANSWER } from '../../src/graphql/auth';
import { buildGraphQLSchema } from '../../src/modules';

/** The arguments through which an answer (a code or a WebAuthn response) reaches a factor. */
const ANSWER_ARGUMENTS = new Set(['code', 'webAuthn', 'response']);

describe('answer-checking fields', () => {
  it('every field that takes an answer is marked @ChecksAnswer, so the one-answer rule covers it', async () => {
    const schema = await buildGraphQLSchema();
    const fields = [schema.getQueryType(), schema.getMutationType()].flatMap((type) =>
      Object.values(type?.getFields() ?? {}),
    );
    const takesAnswer = fields.filter((field) => field.args.some((arg) => ANSWER_ARGUMENTS.has(arg.name)));
    expect(takesAnswer.length).toBeGreaterThan(0);
    const unmarked = takesAnswer
      .filter((field) => field.extensions?.[CHECKS_ANSWER] !== true)
      .map((field) => field.name);
    expect(unmarked).toEqual([]);
  });

  it('no field is marked that takes no answer', async () => {
    const schema = await buildGraphQLSchema();
    const fields = [schema.getQueryType(), schema.getMutationType()].flatMap((type) =>
      Object.values(type?.getFields() ?? {}),
    );
    const markedWithoutAnswer = fields
      .filter(
        (field) =>
          field.extensions?.[CHECKS_ANSWER] === true && !field.args.some((arg) => ANSWER_ARGUMENTS.has(arg.name)),
      )
      .map((field) => field.name);
    expect(markedWithoutAnswer).toEqual([]);
  });
});
