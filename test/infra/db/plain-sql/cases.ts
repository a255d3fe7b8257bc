import { AUTHENTICATOR_CASES } from './authenticators';
import { ENFORCEMENT_CASES } from './enforcement';
import { FACTOR_CASES } from './factors';
import type { PlainSqlCase } from './harness';
import { KEY_CASES } from './keys';
import { ORGANIZATION_CASES } from './organizations';
import { SIGN_IN_CASES } from './sign-in';
import { SIGNALS_CASES } from './signals';
import { USER_CASES } from './users';
import { WEBHOOK_CASES } from './webhooks';

/** Every plain statement's case, by area (each file holds the repositories of its area). */
export const PLAIN_SQL_CASES: PlainSqlCase[] = [
  ...USER_CASES,
  ...FACTOR_CASES,
  ...SIGN_IN_CASES,
  ...ORGANIZATION_CASES,
  ...ENFORCEMENT_CASES,
  ...AUTHENTICATOR_CASES,
  ...WEBHOOK_CASES,
  ...KEY_CASES,
  ...SIGNALS_CASES,
];

/** Places in src/ that send SQL which is no statement of a table, each with why it needs no TypeORM equivalent. */
export const NOT_TABLE_STATEMENTS: Record<string, string> = {
  'AuditRetention.run': 'GET_LOCK and RELEASE_LOCK: an advisory lock, no table',
  'OutboxPurger.runOnce': 'GET_LOCK and RELEASE_LOCK: an advisory lock, no table',
  withRotationLock: "GET_LOCK and RELEASE_LOCK: the key rotation's advisory lock, no table",
  detectMysqlFlavor: 'SELECT VERSION(): which server it is, no table',
  createCompiledExecutor: "graphql-jit's compiled query: not SQL at all",
};
