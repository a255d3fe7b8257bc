import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('.env.example', () => {
  it('lists every variable the configuration reads, each with a comment', () => {
    const source = readFileSync(join(root, 'src', 'config', 'config.ts'), 'utf8');
    const schema = /const environmentSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)![1];
    const read = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]);
    expect(read.length).toBeGreaterThan(20);

    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const listed = new Map([...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [match[1], match[2]]));
    expect(read.filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter(([, rest]) => !rest.includes('# ')).map(([name]) => name)).toEqual([]);
  });
});
