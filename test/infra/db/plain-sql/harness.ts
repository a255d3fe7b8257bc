import 'reflect-metadata';
import { type EntityManager, getMetadataArgsStorage } from 'typeorm';
import type { Database } from '../../../../src/infra/db/database';

/**
 * One plain statement (or a few written together) held to its TypeORM
 * equivalent: `holds` names where src/ writes them (`Class.method`, or a
 * top-level constant such as a factor's StatusPart, as sites.ts names them);
 * `run` runs the plain statement and TypeORM's equivalent on the same rows and
 * compares what they give (a read) or leave (a write), on MariaDB and on the
 * embedded SQLite.
 */
export interface PlainSqlCase {
  /** What it proves: the test's name. */
  name: string;
  holds: string[];
  run(db: TestDatabase): Promise<unknown>;
  /** Where the statement is only sent on MySQL (SQLite needs none): run on MariaDB only. */
  mysqlOnly?: boolean;
}

export interface TestDatabase {
  kind: 'MariaDB' | 'SQLite';
  /** The service's Database: on MariaDB with its batching pool, so queued writes go as the service sends them. */
  database: Database;
  /** TypeORM's entity manager outside any transaction: the reference reads and writes. */
  manager: EntityManager;
  close(): Promise<void>;
}

/**
 * An entity whose every column is set, to something other than its default and
 * null, so a column a plain statement forgets (or maps wrong) shows. Throws
 * naming the column otherwise; a generated id may be left to the database.
 */
export function filled<T extends object>(entity: new () => T, values: Partial<T>): T {
  const storage = getMetadataArgsStorage();
  const generated = new Set(
    storage.generations.filter((generation) => generation.target === entity).map((g) => g.propertyName),
  );
  for (const column of storage.columns.filter((candidate) => candidate.target === entity)) {
    const value = (values as Record<string, unknown>)[column.propertyName];
    if (value === undefined && generated.has(column.propertyName)) continue;
    if (value === undefined || value === null || value === column.options.default) {
      throw new Error(
        `${entity.name}.${column.propertyName} must be set to something other than ${String(column.options.default ?? null)}`,
      );
    }
  }
  return Object.assign(new entity(), values);
}

export interface WriteProof {
  /** Puts the rows the write starts from (the same each time: it replaces what an earlier run left). */
  seed(manager: EntityManager): Promise<unknown>;
  /** The repository's plain statement, inside a transaction as the service runs it. */
  plain(manager: EntityManager): Promise<unknown>;
  /** TypeORM's equivalent, inside a transaction too. */
  typeorm(manager: EntityManager): Promise<unknown>;
  /** The rows afterwards, read through TypeORM. */
  rows(manager: EntityManager): Promise<unknown>;
  /** `false` for a write that opens its own transactions (background work): `plain` and `typeorm` then get TypeORM's manager. */
  transaction?: false;
}

/**
 * A write held to TypeORM's: from the same rows, the plain statement and
 * TypeORM's equivalent leave the same rows, and changed them (not vacuous).
 * Returns what each returned, for the caller to compare where the method returns something.
 */
export async function writesAlike(
  db: TestDatabase,
  proof: WriteProof,
): Promise<{ plain: unknown; typeorm: unknown; after: unknown }> {
  await proof.seed(db.manager);
  const before = await proof.rows(db.manager);
  const run = (write: (manager: EntityManager) => Promise<unknown>) =>
    proof.transaction === false ? write(db.manager) : db.database.transaction(write);
  const plain = await run(proof.plain);
  const byPlain = await proof.rows(db.manager);
  await proof.seed(db.manager);
  expect(await proof.rows(db.manager)).toEqual(before);
  const typeorm = await run(proof.typeorm);
  const byTypeorm = await proof.rows(db.manager);
  expect(byPlain).toEqual(byTypeorm);
  expect(byPlain).not.toEqual(before);
  return { plain, typeorm, after: byPlain };
}

/** A row read through TypeORM without the id the database generated (two inserts of the same values compare equal). */
export function withoutId<T extends { id?: unknown }>(row: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = row;
  return rest;
}

/** A bigint id as the entity declares it (a string): TypeORM gives SQLite's as a number. */
export const bigintId = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
