import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const NUMBERS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8 };

describe('README.md', () => {
  it('a heading that counts its table ("Three commands") counts its rows right', () => {
    const sections = README.split(/^(?=#{1,6} )/m);
    const counted = sections
      .map((section) => ({ section, count: /^#{1,6} (\w+) /.exec(section)?.[1].toLowerCase() }))
      .filter(({ count }) => count !== undefined && count in NUMBERS);
    expect(counted.length).toBeGreaterThan(0);
    for (const { section, count } of counted) {
      // A table's rows: its lines starting with |, less the header and the separator.
      const rows = section.split('\n').filter((line) => line.startsWith('|')).length - 2;
      expect({ heading: section.split('\n')[0], rows }).toEqual({
        heading: section.split('\n')[0],
        rows: NUMBERS[count!],
      });
    }
  });
});
