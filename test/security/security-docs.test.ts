import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { WEBAUTHN_JSON_MAX_DEPTH, WEBAUTHN_JSON_MAX_NODES } from '../../src/factors/webauthn/webauthn-limits';
import { DOCUMENT_LIMITS } from '../../src/graphql/document-limits';
import { LIMITS } from '../../src/limits';
import { buildGraphQLSchema } from '../../src/modules';

/**
 * The documents a reviewer checks claims against stay true: SECURITY.md names
 * only tests that exist; docs/api.md has a section for every operation, lists
 * every error code, and states the limits the code has; both stand alone (no
 * pointer outside the repository).
 */

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('SECURITY.md', () => {
  const text = read('SECURITY.md');

  it('cites only test files that exist', () => {
    const cited = [...new Set(text.match(/test\/[\w./-]+\.ts/g) ?? [])];
    expect(cited.length).toBeGreaterThan(30);
    expect(cited.filter((path) => !existsSync(join(root, path)))).toEqual([]);
  });

  it('covers every attacker of the threat model', () => {
    const headings = [
      '### Anyone on the internet',
      '### A signed-in user',
      '### A malicious owner',
      '### Whoever holds a `twofactor:login` token',
      '### A reader of a database dump',
      '### A reader of Redis',
      '### A reader of the logs',
      '### A broken or hostile SMS provider',
      '## The known trade-off',
      '## Out of scope',
      '## The authorization matrix',
    ];
    expect(headings.filter((heading) => !text.includes(`\n${heading}`))).toEqual([]);
  });
});

describe('docs/api.md', () => {
  const text = read('docs/api.md');
  const section = (title: string) => {
    const start = text.indexOf(`## ${title}\n`);
    const end = text.indexOf('\n## ', start + 1);
    return text.slice(start, end === -1 ? undefined : end);
  };

  it('has a section, with an example and its errors, for every Query and Mutation field', async () => {
    const schema = await buildGraphQLSchema();
    const operations = [
      ...Object.keys(schema.getQueryType()!.getFields()),
      ...Object.keys(schema.getMutationType()!.getFields()),
    ];
    const problems: string[] = [];
    for (const operation of operations) {
      const start = text.indexOf(`### \`${operation}\`\n`);
      if (start === -1) {
        problems.push(`${operation}: no section`);
        continue;
      }
      const next = /\n##+ /.exec(text.slice(start + 1));
      const body = text.slice(start, next ? start + 1 + next.index : undefined);
      if (!body.includes('**Who:**')) problems.push(`${operation}: who may call it`);
      if (!body.includes('```sh') || !body.includes(operation)) problems.push(`${operation}: an example`);
      if (!body.includes('**Errors')) problems.push(`${operation}: its errors`);
    }
    expect(problems).toEqual([]);
  });

  it('lists every error code a caller can get', () => {
    const codes = [...read('src/errors.ts').matchAll(/\|\s*'([A-Z_]+)'/g)].map((match) => match[1]);
    expect(codes.length).toBeGreaterThan(10);
    const table = section('Error codes');
    expect(
      [...codes, 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'].filter(
        (code) => !table.includes(`| \`${code}\` |`),
      ),
    ).toEqual([]);
  });

  it('states the limits the code has', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tf-docs-'));
    const config = loadConfig({ DATA_DIR: dataDir });
    const limits = section('Limits');
    const expected = [
      `\`BODY_LIMIT_BYTES\`, ${config.http.bodyLimitBytes} bytes`,
      `| parser tokens per document | ${DOCUMENT_LIMITS.maxTokens} |`,
      `| selection depth | ${DOCUMENT_LIMITS.maxDepth} levels`,
      `| aliases per document | ${DOCUMENT_LIMITS.maxAliases} |`,
      `| root fields per operation | ${DOCUMENT_LIMITS.maxRootFields} |`,
      `| fields once fragments are expanded | ${DOCUMENT_LIMITS.maxExpandedFields} |`,
      `| cost | ${DOCUMENT_LIMITS.maxCost}:`,
      `${config.limits.userFailuresPerWindow} in a ${config.limits.userFailureWindowSeconds / 60}-minute window`,
      `| failures in a row per user | ${LIMITS.failuresInRowToLock} `,
      `\`IP_ATTEMPTS_PER_MINUTE\`, ${config.limits.ipAttemptsPerMinute} a minute`,
      `\`REAUTH_MAX_AGE\`, ${config.auth.reauthMaxAgeSeconds} s`,
      `6 digits, ${LIMITS.smsCodeTtlSeconds / 60} minutes, ${LIMITS.smsCodeMaxChecks} checks`,
      `1 every ${LIMITS.smsResendIntervalSeconds} seconds`,
      `\`SMS_DAILY_BUDGET\`, ${config.sms.dailyBudget} a day`,
      `(a fifth, ${config.sms.setupDailyBudget})`,
      `| login challenge | ${LIMITS.challengeTtlSeconds / 60} minutes, ${LIMITS.challengeMaxAttempts} attempts`,
      `| login assertion | valid ${LIMITS.assertionTtlSeconds / 60} minutes`,
      `| ${LIMITS.webAuthnCeremonySeconds / 60} minutes (\`timeout\` ${LIMITS.webAuthnCeremonySeconds * 1000} ms;`,
      `| security keys and passkeys per user | ${LIMITS.webAuthnCredentialsPerUser} |`,
      `| ${LIMITS.webAuthnJsonMaxBytes} bytes of JSON, nested at most ${WEBAUTHN_JSON_MAX_DEPTH} deep, at most ${WEBAUTHN_JSON_MAX_NODES} values;`,
      `| \`limit\` of \`GET /audit/ocsf\` | 1 to ${LIMITS.ocsfMaxPageSize} (default ${LIMITS.ocsfDefaultPageSize}) |`,
    ];
    expect(expected.filter((phrase) => !limits.includes(phrase))).toEqual([]);
  });

  it('stands alone: the API is documented here, not elsewhere', () => {
    for (const path of ['docs/api.md', 'SECURITY.md']) expect(read(path)).not.toMatch(/\.\.\/shared|shared\/contract/);
    expect({ readmePointsToTheApiDocs: read('README.md').includes('docs/api.md') }).toEqual({
      readmePointsToTheApiDocs: true,
    });
  });
});
