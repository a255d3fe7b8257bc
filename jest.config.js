/**
 * Two tiers, each test in exactly one (test/ci/test-tiers.test.ts checks both):
 * - fast: `npm run test:fast`, tests that need neither MariaDB nor Redis nor a build
 *   (embedded SQLite, the in-process store, no dist/): no global setup, no services.
 * - full: every other test, against the real MariaDB and Redis; its global setup
 *   checks both are there. `npm test` runs both tiers.
 * List a new test here (a file, or a folder ending in /) when it needs none of those;
 * test/unit/ is always fast.
 */
const FAST_TIER = [
  'test/unit/',
  'test/bench/verdicts.test.ts',
  'test/callers/verified-token-cache.test.ts',
  'test/ci/independent-totp.test.ts',
  'test/ci/skipped.test.ts',
  'test/config/config.test.ts',
  'test/config/env-example.test.ts',
  'test/config/sms-budgets.test.ts',
  'test/docs/api-page.test.ts',
  'test/embedded/embedded-flows.test.ts',
  'test/enforcement/embedded.test.ts',
  'test/factors/recovery-codes/recovery-code-format.test.ts',
  'test/factors/sms/phone-number.test.ts',
  'test/factors/sms/sms-send-limits.test.ts',
  'test/factors/totp/totp-algorithm.test.ts',
  'test/factors/webauthn/webauthn-relying-party.test.ts',
  'test/graphql/answer-comparison.test.ts',
  'test/graphql/answer-fields.test.ts',
  'test/graphql/cost-limit.test.ts',
  'test/graphql/schema-contract.test.ts',
  'test/infra/crypto/cipher.test.ts',
  'test/infra/crypto/store-key-hash.test.ts',
  'test/infra/db/plain-sql-coverage.test.ts',
  'test/infra/logger.test.ts',
  'test/plain-text.test.ts',
  'test/scripts/readme.test.ts',
  'test/scripts/soft-key.test.ts',
  'test/scripts/webhook-receiver.test.ts',
  'test/security/security-docs.test.ts',
  'test/trusted-devices/config.test.ts',
  'test/trusted-devices/embedded.test.ts',
  'test/web/sessions.test.ts',
  'test/webhooks/embedded.test.ts',
  'test/webhooks/network-policy.test.ts',
];

/** What both tiers share: TypeScript through swc, and the AWS SDK kept off the network. */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Packages that ship only ESM (jose; otplib's @noble/hashes and @scure/base; intl-messageformat and @formatjs): Node 24
  // requires them natively, jest's sandbox needs them compiled.
  transformIgnorePatterns: ['/node_modules/(?!(jose|@noble/hashes|@scure/base|intl-messageformat|@formatjs)/)'],
  transform: {
    '^.+\\.[tj]s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'fast',
      testMatch: FAST_TIER.map((path) => `<rootDir>/${path}${path.endsWith('/') ? '**/*.test.ts' : ''}`),
    },
    {
      ...common,
      displayName: 'full',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        ...FAST_TIER.map(
          (path) => `<rootDir>/${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${path.endsWith('/') ? '' : '$'}`,
        ),
      ],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  // A guard against a hang, not a measure of speed: tests wait for the system's own progress,
  // and starting an app (a database made and migrated) can take a busy 2-core machine well over 30 s.
  testTimeout: 120000,
  maxWorkers: 2,
};
