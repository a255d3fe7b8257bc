// Lint: typescript-eslint with type information (floating promises are bugs in a
// service that must answer every request), import order, and Prettier for layout.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The floors of src/ (docs/adr/0015-modules-wire-themselves.md), lowest first: a
 * folder or file may import its own floor and those below, never one above.
 * The composition root (modules.ts, app.ts, main.ts) stands above them all.
 */
const FLOORS = [
  ['errors.ts', 'limits.ts', 'ids.ts', 'plain-text.ts', 'pagination.ts', 'module.ts', 'config'],
  ['infra'],
  ['callers', 'graphql', 'http'],
  ['users', 'audit'],
  ['organizations', 'trusted-devices', 'authenticators'],
  ['attempts'],
  ['factors', 'login'],
  ['directory', 'admin', 'webhooks'],
  ['modules.ts', 'app.ts', 'main.ts'],
];
// Globs only (the rule takes globs or paths, not both): a file is `name.{ts,tsx}`.
const at = (room) => (room.endsWith('.ts') ? `./src/${room.slice(0, -3)}.{ts,tsx}` : `./src/${room}/**`);
const floorZones = FLOORS.slice(0, -1).map((floor, index) => ({
  target: floor.map(at),
  from: FLOORS.slice(index + 1)
    .flat()
    .map(at),
  message: `${floor.join(', ')} may not import from a floor above it (eslint.config.mjs FLOORS).`,
}));
// A second factor is one folder: only its own files and the module list import it.
const factorZones = readdirSync(new URL('./src/factors', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map(({ name }) => ({
    target: ['./src/!(factors)/**', './src/*.ts', `./src/factors/!(${name})/**`, './src/factors/*.ts'],
    from: `./src/factors/${name}/**`,
    message: `factors/${name}/ is imported only by itself and src/modules.ts.`,
  }))
  .map((zone) => ({
    ...zone,
    target: zone.target.filter((target) => target !== './src/*.ts').concat('./src/!(modules).ts'),
  }));

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'data/',
      'coverage/',
      '.tools/',
      'bench/results/',
      'src/**/migrations/',
      'web/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Imports name .ts files without their extension: resolved as Node would, with .ts tried (no-restricted-paths needs the file).
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index'],
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      'import-x/no-duplicates': 'error',
      'import-x/no-restricted-paths': ['error', { zones: [...floorZones, ...factorZones] }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          ...['process', 'console', 'URL', 'fetch', 'Buffer', '__dirname', 'require', 'performance'],
          ...['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'AbortSignal', 'AbortController'],
        ]
          .map((name) => [name, 'readonly'])
          .concat([['module', 'writable']]),
      ),
    },
  },
  {
    // Tests and the bench assign in try blocks and read the value in finally or after a failure.
    files: ['test/**', 'bench/**'],
    rules: { 'no-useless-assignment': 'off' },
  },
);
