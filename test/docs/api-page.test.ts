import {
  differenceOf,
  examplesOf,
  formatted,
  merged,
  mergedText,
  textDifference,
  timesShown,
  valuesOf,
  type Moments,
} from './api-page';

/** The rules docs/api.md states for its answers, and what the page test reports. */

const NOW = Date.parse('2026-12-02T04:00:00.000Z');
const moments: Moments = { session: NOW - 60_000, start: NOW - 1_000, end: NOW };
const at = (ms: number) => new Date(NOW + ms).toISOString();
const fits = (expected: unknown, actual: unknown) => differenceOf(expected, actual, moments) === undefined;

describe('the answers of docs/api.md', () => {
  it('pairs each shell block with the answer right after it, and refuses an answer with no command', () => {
    const page = [
      '## A',
      '### `me`',
      '```sh',
      'gql "$ALICE" me',
      '```',
      '```json',
      '{ "data": 1 }',
      '```',
      'Some words.',
      '```sh',
      'X=1',
      '```',
      '',
      '```js',
      'code()',
      '```',
    ].join('\n');
    const examples = examplesOf(page);
    expect(examples.map((example) => [example.command.text, example.answer?.text, example.command.heading])).toEqual([
      ['gql "$ALICE" me', '{ "data": 1 }', 'A › `me`'],
      ['X=1', undefined, 'A › `me`'],
    ]);
    expect(() => examplesOf('## A\n```sh\nx\n```\nwords\n```json\n{}\n```\n')).toThrow(
      /docs\/api.md:6 \(A\): a ```json block must be the answer of the ```sh block right before it/,
    );
  });

  it('reads printed answers one JSON value after another, with the HTTP status lines gql prints', () => {
    expect(valuesOf('{ "a": [1, "}"] }\n{"b": null}\nHTTP 401\n{}')).toEqual([
      { a: [1, '}'] },
      { b: null },
      'HTTP 401',
      {},
    ]);
    expect(() => valuesOf('{ "a": 1 } not json')).toThrow(/not JSON/);
  });

  it('compares exactly, but for placeholders: the whole value, a part of a text, … for any text', () => {
    expect(fits({ a: 'alice', n: 1 }, { a: 'alice', n: 1 })).toBe(true);
    expect(fits({ a: 'alice' }, { a: 'bob' })).toBe(false);
    expect(fits({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(fits({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(fits({ secret: '<secret>' }, { secret: 'N6WM5YND' })).toBe(true);
    expect(fits({ id: '<id>' }, { id: 17 })).toBe(true);
    expect(fits({ secret: '<secret>' }, { secret: null })).toBe(false);
    expect(fits({ secret: '<secret>' }, { secret: '' })).toBe(false);
    expect(fits('otpauth://x?secret=<secret>&issuer=TwoFactor', 'otpauth://x?secret=ABC&issuer=TwoFactor')).toBe(true);
    expect(fits('otpauth://x?secret=<secret>&issuer=TwoFactor', 'otpauth://x?secret=ABC&issuer=Other')).toBe(false);
    expect(fits('o2NmbXRk…', 'o2NmbXRkbm9uZWdh')).toBe(true);
    expect(fits('o2NmbXRk…', 'p2NmbXRkbm9uZWdh')).toBe(false);
  });

  it('checks times against when the example ran', () => {
    expect(fits('<now>', at(-500))).toBe(true);
    expect(fits('<now>', at(-30_000))).toBe(false);
    expect(fits('<time>', at(-30_000))).toBe(true);
    expect(fits('<time>', at(-3_600_000))).toBe(false);
    expect(fits('<in 5 minutes>', at(5 * 60_000))).toBe(true);
    expect(fits('<in 10 minutes>', at(5 * 60_000))).toBe(false);
    expect(fits('<in 14 days>', at(14 * 86_400_000 - 30_000))).toBe(true);
    expect(fits('<in about 5 seconds>', at(6_000))).toBe(true);
    expect(fits('<in 5 seconds>', at(9_000))).toBe(false);
    expect(fits({ exp: '<in 5 minutes>' }, { exp: Math.floor((NOW + 300_000) / 1000) })).toBe(true);
    expect(fits('<now>', 'not a time')).toBe(false);
    expect(differenceOf({ at: '<in 10 minutes>' }, { at: at(300_000) }, moments)).toMatchObject({
      path: 'at',
      why: expect.stringContaining('(in 5.0 minutes)'),
    });
  });

  it('takes <as before> for exactly the time the last answer with that field showed, however long ago', () => {
    const earlier = new Map<string, number>();
    // The grant, shown as <now> when it ran, 30 s before the listing.
    const grant = { session: NOW - 60_000, start: NOW - 31_000, end: NOW - 30_000, earlier };
    const granted = NOW - 30_500;
    const grantAnswer = {
      data: {
        grant: { grantedAt: new Date(granted).toISOString(), endsAt: new Date(granted + 7 * 86_400_000).toISOString() },
      },
    };
    const grantPage = { data: { grant: { grantedAt: '<now>', endsAt: '<in 7 days>' } } };
    expect(differenceOf(grantPage, grantAnswer, grant)).toBeUndefined();
    timesShown(grantPage, grantAnswer, grant);
    const listing = { ...moments, earlier };
    const listed = (grantedAt: string) => ({ edges: [{ node: { grantedAt } }] });
    const page = { edges: [{ node: { grantedAt: '<as before>' } }] };
    expect(differenceOf(page, listed(new Date(granted).toISOString()), listing)).toBeUndefined();
    // <now> would not take it: it was 30 s before this example ran.
    expect(
      differenceOf({ edges: [{ node: { grantedAt: '<now>' } }] }, listed(new Date(granted).toISOString()), listing),
    ).toBeDefined();
    // Another time, even one of this example, is not the one shown before.
    expect(differenceOf(page, listed(new Date(granted + 1).toISOString()), listing)).toMatchObject({
      path: 'edges[0].node.grantedAt',
      why: expect.stringContaining('the grantedAt an earlier answer showed'),
    });
    expect(differenceOf(page, listed(at(-500)), listing)).toBeDefined();
    // A field no earlier answer showed: nothing to be as before.
    expect(differenceOf({ createdAt: '<as before>' }, { createdAt: at(-500) }, listing)).toMatchObject({
      why: expect.stringContaining('none did'),
    });
    // A time that did not fit its placeholder is not remembered.
    timesShown({ grantedAt: '<now>' }, { grantedAt: at(-3_600_000) }, listing);
    expect(earlier.get('grantedAt')).toBe(granted);
  });

  it('takes a last "… N more …" in a list for exactly N more items', () => {
    expect(
      fits(
        ['<code>', '… 9 more …'],
        Array.from({ length: 10 }, (_, index) => `c${index}`),
      ),
    ).toBe(true);
    expect(
      fits(
        ['<code>', '… 9 more …'],
        Array.from({ length: 11 }, (_, index) => `c${index}`),
      ),
    ).toBe(false);
    expect(fits(['a', '… 1 more …'], ['b', 'c'])).toBe(false);
  });

  it('writes an answer back as the page would show it, keeping the placeholders that still fit', () => {
    const page = { data: { id: '<id>', codes: ['<code>', '… 1 more …'], at: '<in 10 minutes>', n: 1 } };
    const service = { data: { id: 'x1', codes: ['a', 'b', 'c'], at: at(300_000), n: 2, since: at(-200) } };
    expect(merged(page, service, moments)).toEqual({
      data: { id: '<id>', codes: ['<code>', '… 2 more …'], at: '<in 5 minutes>', n: 2, since: '<now>' },
    });
    expect(formatted([{ data: { a: [1, 2] } }, 'HTTP 401'])).toBe('{ "data": { "a": [1, 2] } }\nHTTP 401');
    expect(formatted([{ data: { text: 'x'.repeat(120) } }])).toBe(
      `{\n  "data": {\n    "text": "${'x'.repeat(120)}"\n  }\n}`,
    );
  });

  it('compares a text answer line by line, with the same placeholders', () => {
    const page = 'SMS to +1 ••• ••• 2671: code: <code>. It expires in 10 minutes.';
    expect(textDifference(page, 'SMS to +1 ••• ••• 2671: code: 123456. It expires in 10 minutes.\n', moments)).toBe(
      undefined,
    );
    expect(
      textDifference(page, 'SMS to +1 ••• ••• 2671: code: 123456. It expires in 4 minutes.', moments),
    ).toMatchObject({ path: 'line 1' });
    expect(textDifference(page, `${page}\nmore`, moments)).toMatchObject({ why: 'the number of lines differs' });
    expect(mergedText(`${page}\nold`, 'SMS to +1 ••• ••• 2671: code: 1. It expires in 10 minutes.\nnew', moments)).toBe(
      `${page}\nnew`,
    );
  });
});
